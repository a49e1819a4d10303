"""GET /metrics through the real app, read back with Prometheus' own text parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.queue.models import JoinRequest
from signlink.web import keys
from signlink.web.app import create_app
from tests.records.dataset import tickets
from tests.support.redis_proc import free_port
from tests.support.staff import Client


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_report_queue_records_and_this_process(client: Client) -> None:
    queue = client.app[keys.QUEUE]
    await queue.agent_login("ana", ["ASL"], ["phone"], ready=True)
    await queue.agent_login("bo", ["ASL"], ["phone"])  # away
    placed = await queue.join(JoinRequest("customer-token-metrics-01", "ASL", "phone", "normal"))
    assert placed.offer
    await queue.accept("ana", placed.offer.id)
    await queue.join(JoinRequest("customer-token-metrics-02", "ASL", "phone", "normal"))  # waits
    await client.app[keys.RECORDS].write_new(tickets())

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    got = samples(await response.text())
    assert got[("signlink_queue_waiting", (("language", "ASL"), ("topic", "phone")))] == 1
    assert got[("signlink_agents", (("status", "in_call"),))] == 1
    assert got[("signlink_agents", (("status", "away"),))] == 1
    assert got[("signlink_active_calls", ())] == 1
    # The hand-made day (tests/records/dataset.py): 11 offers, 1 declined, 1 timed out, 1 cancelled.
    assert got[("signlink_offers_total", (("outcome", "declined"),))] == 1
    assert got[("signlink_offers_total", (("outcome", "timed_out"),))] == 1
    assert got[("signlink_tickets_total", (("outcome", "abandoned"),))] == 2
    assert got[("signlink_calls_flagged_total", ())] == 1
    # Seven checks of 5 s: all in the (4, 6] bin, so cumulative from le=6 on.
    assert got[("signlink_check_duration_seconds_bucket", (("le", "4.0"),))] == 0
    assert got[("signlink_check_duration_seconds_bucket", (("le", "6.0"),))] == 7
    assert got[("signlink_check_duration_seconds_bucket", (("le", "+Inf"),))] == 7
    assert got[("signlink_check_duration_seconds_count", ())] == 7
    assert got[("signlink_check_duration_seconds_sum", ())] == 35
    assert got[("signlink_active_checks", ())] == 0
    assert got[("signlink_ws_connections", (("role", "agent"),))] == 0
    assert ("signlink_records_pending_events", (("stream", "queue"),)) in got
    assert ("signlink_records_lag_events", (("stream", "calls"),)) in got
    assert got[("signlink_records_stream_cap_events", (("stream", "queue"),))] == 100_000
    assert got[("signlink_database_up", ())] == 1


async def test_metrics_without_the_database_keep_the_live_figures(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    away = settings.replace(database_url=f"postgresql://signlink@127.0.0.1:{free_port()}/signlink")
    client = await aiohttp_client(create_app(away))
    await client.app[keys.QUEUE].agent_login("ana", ["ASL"], ["phone"], ready=True)
    got = samples(await (await client.get("/metrics")).text())
    assert got[("signlink_database_up", ())] == 0
    assert got[("signlink_agents", (("status", "available"),))] == 1
    assert ("signlink_tickets_total", (("outcome", "answered"),)) not in got
    health = await client.get("/healthz")
    body = await health.json()
    assert health.status == 200 and body["status"] == "degraded" and body["database"] is False
    assert "PostgreSQL" in body["database_error"] and body["redis"] is True


async def test_a_configured_token_is_required(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings.replace(metrics_token="s3cret-token")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Basic s3cret-token"})).status == 401
    ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status == 200 and "signlink_agents" in await ok.text()


async def test_a_recorder_far_behind_makes_healthz_say_so(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    away = settings.replace(
        database_url=f"postgresql://signlink@127.0.0.1:{free_port()}/signlink", recorder_lag_alarm=2
    )
    client = await aiohttp_client(create_app(away))
    queue = client.app[keys.QUEUE]
    await queue.agent_login("ana", ["ASL"], ["phone"])  # away: tickets wait
    for i in range(3):
        await queue.join(JoinRequest(f"customer-token-behind-{i:04d}", "ASL", "phone", "normal"))
    body = await (await client.get("/healthz")).json()
    assert body["status"] == "degraded" and body["recorder_behind_events"] >= 4
    assert "events behind" in body["recorder_error"]
