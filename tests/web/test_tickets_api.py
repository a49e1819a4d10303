"""The customer API on the real app and Redis: /api/service, /api/tickets, /api/ratings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.queue.models import EndedBy, TicketState
from signlink.records.verdicts import VerdictStore
from signlink.web import keys
from signlink.web.app import create_app
from tests.support.staff import add_account, login

App = TestClient[Any, Any]
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, settings: Settings) -> App:
    client: App = await aiohttp_client(create_app(settings))
    return client


async def agent_online(app: App, redis: Redis, settings: Settings, *, ready: bool = False) -> None:
    """An ASL/CSL agent for phone and pc, online (away unless `ready`): tickets for those wait."""
    account = await add_account(settings, redis, "ana", role=Role.AGENT, languages=("ASL", "CSL"))
    await app.app[keys.QUEUE].agent_login(
        account.username, account.languages, account.topics, name=account.display_name, ready=ready
    )


async def join(app: App, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone", **body})
    return response.status, await response.json()


async def test_service_says_which_languages_are_served_now(
    app: App, redis: Redis, settings: Settings
) -> None:
    body = await (await app.get("/api/service")).json()
    assert [lang["served_now"] for lang in body["languages"]] == [False] * len(settings.sign_languages)
    assert body["classes"] == ["normal", "callback"]
    assert body["topics"] == list(settings.topics)
    await agent_online(app, redis, settings)
    body = await (await app.get("/api/service")).json()
    served = {lang["code"]: lang for lang in body["languages"]}
    assert served["ASL"] == {"code": "ASL", "served_now": True, "topics": ["phone", "pc"]}
    assert served["BSL"]["served_now"] is False


async def test_joining_gives_a_token_a_place_and_the_websocket(
    app: App, redis: Redis, settings: Settings
) -> None:
    await agent_online(app, redis, settings)
    status, first = await join(app, device_model="Pixel 9", device_serial="R58N12")
    assert status == 201, first
    assert TOKEN_RE.fullmatch(first["token"])
    assert (first["position"], first["estimated_wait_s"], first["ws_url"]) == (1, None, "/ws")
    status, second = await join(app, priority_class="callback")
    assert status == 201 and second["position"] == 1  # callback goes ahead of normal
    assert second["token"] != first["token"]
    ticket = await app.app[keys.QUEUE].get_ticket(first["ticket_id"])
    assert (ticket.device_model, ticket.device_serial, ticket.state) == (
        "Pixel 9",
        "R58N12",
        TicketState.WAITING,
    )
    # Only the token's hash is stored.
    stored = await redis.hkeys(f"{settings.redis_prefix}:queue:tokens")
    assert stored and first["token"] not in repr(stored)


async def test_an_unserved_language_is_refused_with_what_is_served(
    app: App, redis: Redis, settings: Settings
) -> None:
    status, body = await join(app, language="BSL")
    assert (status, body["error"], body["served_languages"]) == (422, "not_served", [])
    await agent_online(app, redis, settings)
    status, body = await join(app, language="BSL")
    assert status == 422
    assert sorted(body["served_languages"]) == ["ASL", "CSL"]
    status, body = await join(app, topic="repair")
    assert (status, body["served_topics"]) == (422, ["phone", "pc"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"priority_class": "emergency"}, 400, "bad_field"),
        ({"language": None}, 400, "bad_field"),
        ({"topic": 3}, 400, "bad_field"),
        ({"language": "XSL"}, 400, "unknown_value"),
        ({"verdict_id": "no-such-verdict"}, 400, "bad_field"),
        ({"device_model": "x" * 65}, 413, "too_long"),
        ({"device_serial": "a\x00b"}, 400, "bad_request"),
        ({"comment": "x" * 9000}, 413, "too_large"),
    ],
)
async def test_bad_joins_are_refused_with_a_code(
    app: App, redis: Redis, settings: Settings, *, body: dict[str, Any], status: int, code: str
) -> None:
    await agent_online(app, redis, settings)
    got_status, got = await join(app, **body)
    assert (got_status, got["error"]) == (status, code), got


async def test_malformed_bodies_and_foreign_sites_are_refused(app: App) -> None:
    response = await app.post("/api/tickets", data=b"{nope", headers={"Content-Type": "application/json"})
    assert (response.status, (await response.json())["error"]) == (400, "malformed_json")
    response = await app.post("/api/tickets", json=["ASL"])
    assert response.status == 400
    response = await app.post(
        "/api/tickets", json={"language": "ASL"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403


async def test_a_page_that_still_holds_its_token_resumes_instead_of_joining_twice(
    app: App, redis: Redis, settings: Settings
) -> None:
    await agent_online(app, redis, settings)
    _, first = await join(app)
    response = await app.post(
        "/api/tickets",
        json={"language": "ASL", "topic": "phone"},
        headers={"Authorization": f"Bearer {first['token']}"},
    )
    body = await response.json()
    assert (response.status, body["error"], body["ticket_id"]) == (409, "already_queued", first["ticket_id"])
    # After leaving, the same token joins again (a new ticket).
    leave = await app.delete("/api/tickets/current", headers={"Authorization": f"Bearer {first['token']}"})
    assert leave.status == 204
    response = await app.post(
        "/api/tickets",
        json={"language": "ASL", "topic": "pc"},
        headers={"Authorization": f"Bearer {first['token']}"},
    )
    again = await response.json()
    assert response.status == 201 and again["token"] == first["token"]
    assert again["ticket_id"] != first["ticket_id"]


async def test_leaving_needs_the_token(app: App, redis: Redis, settings: Settings) -> None:
    await agent_online(app, redis, settings)
    _, ticket = await join(app)
    assert (await app.delete("/api/tickets/current")).status == 401
    unknown = await app.delete("/api/tickets/current", headers={"Authorization": "Bearer " + "z" * 43})
    assert unknown.status == 404
    left = await app.delete("/api/tickets/current", headers={"Authorization": f"Bearer {ticket['token']}"})
    assert left.status == 204
    stored = await app.app[keys.QUEUE].get_ticket(ticket["ticket_id"])
    assert (stored.state, stored.finish_reason) == (TicketState.ABANDONED, "left")


async def test_a_rating_needs_a_finished_call_and_is_taken_once(
    app: App, redis: Redis, settings: Settings
) -> None:
    await agent_online(app, redis, settings, ready=True)
    _, ticket = await join(app)
    queue = app.app[keys.QUEUE]
    rate = {"token": ticket["token"], "score": 4, "comment": "clear signing"}
    response = await app.post("/api/ratings", json=rate)
    assert response.status == 409  # still waiting / on offer
    agent = await queue.get_agent("ana")
    assert agent.offer_id is not None
    session = await queue.accept("ana", agent.offer_id)
    await app.app[keys.SESSIONS].start(
        session_id=session.id, ticket_id=session.ticket_id, agent_id="ana", language="ASL", topic="phone"
    )
    await queue.end_session(session.id, by=EndedBy.AGENT)
    for bad in ({**rate, "score": 0}, {**rate, "score": 6}, {**rate, "score": "5"}, {**rate, "score": True}):
        assert (await app.post("/api/ratings", json=bad)).status == 400
    assert (await app.post("/api/ratings", json={**rate, "comment": "x" * 501})).status == 413
    response = await app.post("/api/ratings", json=rate)
    assert (response.status, (await response.json())["session_id"]) == (201, session.id)
    record = await app.app[keys.SESSIONS].get(session.id)
    assert (record.rating, record.rating_comment) == (4, "clear signing")
    assert (await app.post("/api/ratings", json={**rate, "score": 1})).status == 409
    assert (await app.post("/api/ratings", json={**rate, "token": "q" * 43})).status == 404


async def test_a_verdict_id_is_kept_with_the_ticket(app: App, redis: Redis, settings: Settings) -> None:
    await agent_online(app, redis, settings)
    verdicts = VerdictStore(redis, settings.redis_prefix, 3600)
    results = tuple(
        CriterionResult(c, Status.FAIL if c is Criterion.LIGHT else Status.PASS, 1.0, 1.0) for c in Criterion
    )
    verdict_id = await verdicts.save(
        Verdict(passed=False, complete=True, criteria=results, metrics={}), check_id="c1", duration_s=3.0
    )
    status, body = await join(app, verdict_id=verdict_id)
    assert status == 201
    assert (await app.app[keys.QUEUE].get_ticket(body["ticket_id"])).verdict_id == verdict_id
    status, body = await join(app, verdict_id="none")
    assert status == 201
    assert (await app.app[keys.QUEUE].get_ticket(body["ticket_id"])).verdict_id is None


async def test_a_staff_cookie_in_the_same_browser_does_not_block_customer_calls(
    app: App, redis: Redis, settings: Settings
) -> None:
    """An agent trying the customer pages in their own browser: no CSRF token is asked for customer
    endpoints (they never act with the staff session); a foreign Origin is still refused."""
    await agent_online(app, redis, settings)
    assert (await login(app)).status == 303
    status, body = await join(app)
    assert status == 201, body
    foreign = await app.post(
        "/api/tickets", json={"language": "ASL", "topic": "pc"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status == 403
    # Staff endpoints still need the token: logging out without it is refused.
    assert (await app.post("/logout")).status == 403


async def test_a_token_the_server_never_made_is_never_adopted(
    app: App, redis: Redis, settings: Settings
) -> None:
    await agent_online(app, redis, settings)
    chosen = "a" * 43  # weak, known to an attacker
    response = await app.post(
        "/api/tickets",
        json={"language": "ASL", "topic": "phone"},
        headers={"Authorization": f"Bearer {chosen}"},
    )
    body = await response.json()
    assert response.status == 201
    assert body["token"] != chosen and TOKEN_RE.fullmatch(body["token"])
    # The chosen token names nothing: it cannot take over the place.
    gone = await app.delete("/api/tickets/current", headers={"Authorization": f"Bearer {chosen}"})
    assert gone.status == 404
    assert (await app.app[keys.QUEUE].get_ticket(body["ticket_id"])).state is TicketState.WAITING


async def test_a_join_retried_with_its_idempotency_key_is_one_ticket_and_gets_its_token(
    app: App, redis: Redis, settings: Settings
) -> None:
    await agent_online(app, redis, settings)
    body = {"language": "ASL", "topic": "phone"}
    key = {"Idempotency-Key": "k" * 43}
    first = await app.post("/api/tickets", json=body, headers=key)
    assert first.status == 201
    made = await first.json()
    again = await app.post("/api/tickets", json=body, headers=key)
    assert again.status == 200  # the earlier try's answer, not a second ticket
    replay = await again.json()
    assert (replay["ticket_id"], replay["token"], replay["position"]) == (made["ticket_id"], made["token"], 1)
    assert made["token"] != key["Idempotency-Key"]  # the token is always the server's
    other = await app.post("/api/tickets", json=body, headers={"Idempotency-Key": "m" * 43})
    assert other.status == 201 and (await other.json())["ticket_id"] != made["ticket_id"]
    bad = await app.post("/api/tickets", json=body, headers={"Idempotency-Key": "short"})
    assert bad.status == 400 and (await bad.json())["error"] == "bad_field"
