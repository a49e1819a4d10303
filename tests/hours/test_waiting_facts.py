"""Honest waiting: busy, away, nobody, closing, and the range; pure and through GET /api/waiting."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.hours.facts import Fact, erlang_quantile, facts, wait_range
from signlink.web import keys
from signlink.web.app import create_app
from tests.support.staff import add_account, csrf_token, login

App = TestClient[Any, Any]


def test_erlang_quantiles_match_known_values() -> None:
    # Exponential (k=1): the 10th/90th percentiles are -ln(0.9) and -ln(0.1).
    assert erlang_quantile(1, 0.1) == pytest.approx(0.10536, abs=1e-4)
    assert erlang_quantile(1, 0.9) == pytest.approx(2.30259, abs=1e-4)
    assert erlang_quantile(5, 0.5) == pytest.approx(4.67091, abs=1e-4)


def test_range_narrows_as_more_tickets_are_ahead() -> None:
    low1, high1 = wait_range(600, 0)
    low9, high9 = wait_range(6000, 9)
    assert low1 < 600 < high1 and low9 < 6000 < high9
    assert (high9 - low9) / 6000 < (high1 - low1) / 600


def base(**kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "estimate_s": 400.0,
        "ahead": 1.0,
        "serving_agents": 1,
        "online_agents": 1,
        "closes_in_s": None,
        "is_open": True,
        "notice_s": 1800.0,
    }
    values.update(kw)
    return values


def test_facts_say_what_is_true() -> None:
    assert facts(**base(online_agents=0, serving_agents=0, estimate_s=None)).fact is Fact.NO_AGENTS
    away = facts(**base(serving_agents=0, estimate_s=30.0))
    assert away.fact is Fact.AWAY and away.estimate_s is None  # never "soon" with everyone away
    busy = facts(**base())
    assert busy.fact is Fact.BUSY and busy.low_s is not None and busy.high_s is not None
    assert facts(**base(ahead=0.0, estimate_s=40.0)).fact is Fact.FREE


def test_closing_time_is_said_and_the_wait_past_it_is_still_served() -> None:
    far = facts(**base(closes_in_s=7200.0))
    assert far.closes_in_s is None and not far.after_close
    near = facts(**base(closes_in_s=1200.0, estimate_s=1500.0))
    assert near.closes_in_s == 1200.0 and near.after_close and not near.closed
    shut = facts(**base(is_open=False))
    assert shut.closed and shut.after_close


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, settings: Settings) -> App:
    client: App = await aiohttp_client(create_app(settings.replace(hours_cache_s=0.0)))
    return client


async def test_the_waiting_room_hears_away_then_busy(app: App, redis: Redis, settings: Settings) -> None:
    account = await add_account(settings, redis, "ana", role=Role.AGENT, languages=("ASL",))
    queue = app.app[keys.QUEUE]
    await queue.agent_login(account.username, account.languages, account.topics, name="Ana", ready=False)
    joined = await (await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})).json()
    auth = {"Authorization": f"Bearer {joined['token']}"}
    body = await (await app.get("/api/waiting", headers=auth)).json()
    assert body["state"] == "waiting" and body["fact"] == "away" and body["estimate"] is None
    second = await (await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})).json()
    await queue.agent_ready(account.username)  # the first ticket goes to Ana: the second waits for her
    body2 = await (
        await app.get("/api/waiting", headers={"Authorization": f"Bearer {second['token']}"})
    ).json()
    assert body2["fact"] == "busy"
    estimate = body2["estimate"]
    assert estimate["low_s"] < estimate["mean_s"] < estimate["high_s"]
    assert (await app.get("/api/waiting")).status == 401


async def test_the_waiting_room_hears_closing_time(app: App, redis: Redis, settings: Settings) -> None:
    ana = await add_account(settings, redis, "ana", role=Role.AGENT, languages=("ASL",))
    await app.app[keys.QUEUE].agent_login(ana.username, ana.languages, ana.topics, name="Ana", ready=False)
    await add_account(settings, redis, "sam", role=Role.SUPERVISOR)
    await login(app, "sam")
    token = await csrf_token(app)
    joined = await (await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})).json()
    # Closed after the customer joined: they are told, and they keep their place.
    form = {"csrf_token": token, "language": "ASL", "topic": "", "state": "closed", "reason": "end of day"}
    assert (await app.post("/staff/hours/force", data=form, allow_redirects=False)).status == 303
    body = await (
        await app.get("/api/waiting", headers={"Authorization": f"Bearer {joined['token']}"})
    ).json()
    assert body["state"] == "waiting" and body["closed"] is True and body["after_close"] is True
