"""The QA JSON API and CSV through the real app: roles on every route, figures, filters, escaping."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.queue.models import JoinRequest
from signlink.records.ticket import TicketRecord
from signlink.web import keys
from signlink.web.app import create_app
from signlink.web.qa_api import csv_cell
from tests.records.dataset import H10, tickets
from tests.support.staff import Client, add_account, login

DAY_Q = "from=2027-01-15&to=2027-01-15"
ROUTES = [
    f"/api/qa/summary?{DAY_Q}",
    f"/api/qa/timeseries?{DAY_Q}&bucket=hour",
    f"/api/qa/agents?{DAY_Q}",
    f"/api/qa/sessions?{DAY_Q}",
    "/api/qa/sessions/t1",
    "/api/qa/live",
    f"/qa/sessions.csv?{DAY_Q}",
]


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    client = await aiohttp_client(create_app(settings))
    await client.app[keys.RECORDS].write_new(tickets())
    return client


async def as_role(client: Client, settings: Settings, redis: Redis, role: Role) -> None:
    name = f"{role.value}1"
    await add_account(settings, redis, name, role=role, display_name=f"{role.value.title()} One")
    assert (await login(client, name)).status == 303


@pytest.mark.parametrize("route", ROUTES)
async def test_anonymous_requests_get_401_or_the_login_page(client: Client, route: str) -> None:
    response = await client.get(route, allow_redirects=False)
    if route.startswith("/api/"):
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    else:  # the CSV is a download link on a page: like a page, it sends you to log in
        assert response.status == 303 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("route", ROUTES)
async def test_agents_get_403_on_every_qa_route(
    client: Client, settings: Settings, redis: Redis, route: str
) -> None:
    await as_role(client, settings, redis, Role.AGENT)
    response = await client.get(route, allow_redirects=False)
    assert response.status == 403
    assert "ana" not in await response.text()  # nothing of the records leaks


@pytest.mark.parametrize("role", [Role.QA, Role.SUPERVISOR, Role.ADMIN])
@pytest.mark.parametrize("route", ROUTES)
async def test_qa_supervisors_and_admins_get_every_route(
    client: Client, settings: Settings, redis: Redis, role: Role, route: str
) -> None:
    await as_role(client, settings, redis, role)
    response = await client.get(route, allow_redirects=False)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"


async def test_summary_of_the_hand_computed_day(client: Client, settings: Settings, redis: Redis) -> None:
    await as_role(client, settings, redis, Role.QA)
    s = await (await client.get(f"/api/qa/summary?{DAY_Q}")).json()
    assert s["period"] == {
        "from": "2027-01-15T00:00:00Z",
        "to": "2027-01-16T00:00:00Z",
        "from_s": 1_799_971_200,
        "to_s": 1_800_057_600,
    }
    assert s["service_level"] == [{"threshold_s": 120.0, "share": 0.5}, {"threshold_s": 30.0, "share": 0.25}]
    assert s["answer_time"] == {"avg_s": 83.8, "p90_s": 204.0}
    assert (s["tickets"], s["abandonment_rate"], s["rating"]["avg"]) == (10, 0.25, 3.5)
    # Filters narrow it: BSL (buckets) and agent ana (scan).
    bsl = await (await client.get(f"/api/qa/summary?{DAY_Q}&language=BSL")).json()
    assert (bsl["tickets"], bsl["answered"], bsl["abandoned"]) == (3, 2, 1)
    ana = await (await client.get(f"/api/qa/summary?{DAY_Q}&agent=ana")).json()
    assert (ana["tickets"], ana["service_level"][0]["share"]) == (4, 0.75)


async def test_thresholds_come_from_the_settings(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    client = await aiohttp_client(
        create_app(settings.replace(qa_service_level_s=60, qa_service_level_strict_s=10))
    )
    await client.app[keys.RECORDS].write_new(tickets())
    await as_role(client, settings, redis, Role.QA)
    s = await (await client.get(f"/api/qa/summary?{DAY_Q}")).json()
    # Within 60 s: 8, 25, 40 -> 3 of 8; within 10 s: 8 -> 1 of 8.
    assert s["service_level"] == [
        {"threshold_s": 60.0, "share": 0.375},
        {"threshold_s": 10.0, "share": 0.125},
    ]


async def test_series_agents_list_and_session_page(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis, "ana", display_name="Ana Li")
    await as_role(client, settings, redis, Role.QA)
    ts = await (await client.get(f"/api/qa/timeseries?{DAY_Q}&bucket=hour")).json()
    assert len(ts["buckets"]) == 24 and ts["bucket_s"] == 3600
    assert [b["tickets"] for b in ts["buckets"][10:13]] == [3, 3, 4]
    assert ts["by_language"][0]["key"] == "ASL"
    day = await (await client.get(f"/api/qa/timeseries?{DAY_Q}")).json()  # default bucket for 24 h: hour
    assert day["bucket_s"] == 3600
    agents = (await (await client.get(f"/api/qa/agents?{DAY_Q}")).json())["agents"]
    assert [(a["agent_id"], a["name"], a["handled"]) for a in agents] == [
        ("ana", "Ana Li", 4),
        ("cy", "cy", 2),
        ("bob", "bob", 1),
    ]
    page = await (await client.get(f"/api/qa/sessions?{DAY_Q}&limit=4")).json()
    assert [r["ticket_id"] for r in page["sessions"]] == ["w1", "u1", "a2", "a1"]
    assert page["sessions"][0] == {
        "ticket_id": "w1",
        "session_id": None,
        "joined_at": H10 + 7500,
        "language": "ASL",
        "topic": "phone",
        "priority_class": "normal",
        "agent_id": None,
        "outcome": "waiting",
        "transferred": False,
        "waited_s": None,
        "handle_s": None,
        "check": "passed",
        "flagged": False,
        "rating": None,
    }
    more = await (await client.get(f"/api/qa/sessions?{DAY_Q}&limit=4&cursor={page['next_cursor']}")).json()
    assert [r["ticket_id"] for r in more["sessions"]] == ["t6", "t5", "t4", "t3"]
    flagged = await (await client.get(f"/api/qa/sessions?{DAY_Q}&flagged=1")).json()
    assert [r["ticket_id"] for r in flagged["sessions"]] == ["t2"]
    one = await (await client.get("/api/qa/sessions/t3")).json()
    assert one["ticket"]["ticket_id"] == "t3" and one["check"]["status"] == "continued"
    assert one["check"]["failing"] == ["hands", "light"]
    assert [o["outcome"] for o in one["offers"]] == ["timed_out", "accepted"]
    assert one["session"]["agent_id"] == "cy" and one["quality"] == {
        "samples": [],
        "flagged": False,
        "reasons": [],
        "findings": [],
    }


async def test_bad_queries_are_400_and_unknown_tickets_404(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_role(client, settings, redis, Role.QA)
    for query in (
        "from=yesterday",
        "from=2027-01-16&to=2027-01-15",
        "from=2020-01-01&to=2027-01-15",
        "outcome=lost",
        "check=maybe",
        "flagged=perhaps",
        "agent=<script>",
        "limit=0",
        "limit=100000",
        "cursor=nonsense",
    ):
        response = await client.get(f"/api/qa/sessions?{query}")
        assert response.status == 400, query
    assert (await client.get(f"/api/qa/timeseries?{DAY_Q}&bucket=minute")).status == 400
    assert (await client.get("/api/qa/timeseries?from=2027-01-01&to=2027-03-01&bucket=hour")).status == 400
    assert (await client.get("/api/qa/sessions/t999")).status == 404


async def test_csv_has_every_matching_row_and_defuses_formulas(
    client: Client, settings: Settings, redis: Redis
) -> None:
    # A record whose text fields a spreadsheet would run as formulas (written past the queue's checks).
    evil = TicketRecord(
        "t-evil", joined_at=H10 + 9000, language="=cmd|'/C calc'!A0", topic="+1", priority_class="@x"
    )
    await client.app[keys.RECORDS].write_new([evil])
    await as_role(client, settings, redis, Role.QA)
    response = await client.get(f"/qa/sessions.csv?{DAY_Q}")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:3] == ["ticket_id", "session_id", "joined_at"]
    assert [r[0] for r in rows[1:]] == ["t1", "t2", "t3", "t4", "t5", "t6", "a1", "a2", "u1", "w1", "t-evil"]
    assert rows[1][2] == "2027-01-15T10:01:00Z"
    last = dict(zip(rows[0], rows[-1], strict=True))
    assert (last["language"], last["topic"], last["priority_class"]) == ("'=cmd|'/C calc'!A0", "'+1", "'@x")
    only = list(
        csv.reader(
            io.StringIO(await (await client.get(f"/qa/sessions.csv?{DAY_Q}&outcome=abandoned")).text())
        )
    )
    assert [r[0] for r in only[1:]] == ["a1", "a2"]


def test_csv_cells() -> None:
    assert [csv_cell(v) for v in ("=1+1", "-2", "@a", "\tx", "\rx", "plain", "a=b")] == [
        "'=1+1",
        "'-2",
        "'@a",
        "'\tx",
        "'\rx",
        "plain",
        "a=b",
    ]
    assert [csv_cell(v) for v in (None, True, False, 3, 2.5, -1.0)] == ["", "1", "0", "3", "2.5", "-1.0"]


async def test_the_apps_recorder_records_what_the_queue_does(
    client: Client, settings: Settings, redis: Redis
) -> None:
    queue = client.app[keys.QUEUE]
    await queue.agent_login("ana", ["ASL"], ["phone"], ready=True)
    placed = await queue.join(JoinRequest("customer-token-qa-api-0001", "ASL", "phone", "normal"))
    assert placed.offer
    session = await queue.accept("ana", placed.offer.id)
    await client.app[keys.SESSIONS].events.quality_sample(
        session.id, session.started_at, "agent", {"fps": 30, "rtt_ms": 40}
    )
    store = client.app[keys.RECORDS]
    for _ in range(200):  # the recorder task runs on its own: wait for it (no timing is asserted)
        record = await store.get(placed.ticket.id)
        if record is not None and record.sessions and (await store.samples([session.id]))[session.id]:
            break
        await asyncio.sleep(0.05)
    assert record is not None and record.outcome.value == "answered"
    await as_role(client, settings, redis, Role.QA)
    page = await (await client.get(f"/api/qa/sessions/{placed.ticket.id}")).json()
    assert page["session"]["session_id"] == session.id
    assert [s["fps"] for s in page["quality"]["samples"]] == [30.0]
