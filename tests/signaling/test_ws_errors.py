"""Protocol errors over a real /ws: each gets a clear error (or close code), and neither the connection
(unless closing is the point) nor the queue is harmed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.queue import audit
from signlink.queue.models import AgentStatus, TicketState
from signlink.queue.store import QueueStore
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, Customer, Peer, in_call, kit
from tests.support.staff import add_account, csrf_token

__all__ = ["kit"]


def queue_of(app: App) -> QueueStore:
    queue: QueueStore = app.app[keys.QUEUE]
    return queue


async def queue_state(queue: QueueStore) -> dict[str, Any]:
    """The queue's every structure (minus the clock), after checking all its invariants."""
    dump = await queue.dump()
    assert audit.check(dump) == []
    dump.pop("now")
    # Heartbeats (the pings these tests send) move the last-seen times, nothing else.
    for name in ("ticket_seen", "agent_seen"):
        dump[name] = dump[name][::2] if isinstance(dump[name], list) else dump[name]
    # The sweeper's clock, which it moves whenever it runs (often, under load).
    seq = dump.get("seq")
    if isinstance(seq, list) and "swept_at" in seq[::2]:
        at = seq[::2].index("swept_at") * 2
        dump["seq"] = seq[:at] + seq[at + 2 :]
    return dump


async def waiting_customer(kit: CallKit) -> tuple[App, Customer, Peer, dict[str, Any]]:
    """An app with an agent online but away (so the ticket waits), and a connected customer."""
    app = await kit.app()
    await kit.agent(app, ready=False)
    customer, peer, welcome = await kit.connected_customer(app)
    assert welcome["state"]["state"] == "waiting"
    return app, customer, peer, welcome


async def test_malformed_json_unknown_types_and_binary_frames_are_answered_and_harm_nothing(
    kit: CallKit,
) -> None:
    app, customer, peer, _ = await waiting_customer(kit)
    before = await queue_state(queue_of(app))

    await peer.ws.send_str("{not json")
    assert (await peer.expect("error"))["code"] == "malformed_json"
    await peer.ws.send_str("[1, 2]")
    assert (await peer.expect("error"))["code"] == "not_an_object"
    await peer.send({"type": "teleport"})
    error = await peer.expect("error")
    assert error["code"] == "unknown_type" and "teleport" in error["message"]
    await peer.send({"no": "type"})
    assert (await peer.expect("error"))["code"] == "unknown_type"
    await peer.send({"type": "chat", "id": "x", "text": 42})
    error = await peer.expect("error")
    assert (error["code"], error["ref"]) == ("bad_field", "chat")
    await peer.send({"type": "chat", "id": "x", "text": "a" * 2001})
    assert (await peer.expect("error"))["code"] == "too_long"
    await peer.ws.send_bytes(b"\x00\x01")
    assert (await peer.expect("error"))["code"] == "binary"

    await peer.ping()  # still connected and served
    assert await queue_state(queue_of(app)) == before
    ticket = await queue_of(app).get_ticket(customer.ticket_id)
    assert ticket.state is TicketState.WAITING


async def test_an_oversized_message_closes_with_1009_and_the_place_is_kept(kit: CallKit) -> None:
    app, customer, peer, welcome = await waiting_customer(kit)
    before = await queue_state(queue_of(app))
    await peer.ws.send_str(json.dumps({"type": "chat", "id": "big", "text": "x" * 70_000}))
    assert await peer.closed() == 1009
    assert await queue_state(queue_of(app)) == before
    again = await customer.connect()
    kit.sockets.append(again.ws)
    back = await again.expect("welcome")
    assert back["state"]["state"] == "waiting"
    assert back["state"]["position"] == welcome["state"]["position"]


async def test_a_customer_sending_agent_only_messages_is_refused(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    _customer, peer, _ = await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    before = await queue_state(queue_of(app))
    for message in (
        {"type": "accept", "offer_id": offer["offer_id"]},
        {"type": "decline", "offer_id": offer["offer_id"]},
        {"type": "status", "status": "away"},
        {"type": "wrap_up", "session_id": "s000000000001", "outcome": "resolved"},
        {"type": "transfer", "language": "CSL", "topic": "phone"},
        {"type": "note", "session_id": "s000000000001", "text": "hi"},
    ):
        await peer.send(message)
        error = await peer.expect("error")
        assert (error["code"], error["ref"]) == ("not_allowed", message["type"])
    await peer.ping()
    assert await queue_state(queue_of(app)) == before
    # The offer is still open for the agent.
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await peer.expect("session"))["role"] == "answerer"


async def test_an_agent_cannot_leave_a_queue_nor_signal_outside_a_call(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    await agent_ws.send({"type": "leave"})
    assert (await agent_ws.expect("error"))["code"] == "not_allowed"
    await agent_ws.send({"type": "signal", "data": {"candidate": None}})
    assert (await agent_ws.expect("error"))["code"] == "no_session"
    await agent_ws.send({"type": "end"})
    assert (await agent_ws.expect("error"))["code"] == "no_session"
    await agent_ws.ping()


async def test_messages_for_someone_elses_session_are_refused_and_nothing_is_relayed(
    kit: CallKit, redis: Redis
) -> None:
    app = await kit.app()
    ana_ws, ana_customer_ws, ana_session, _, _ = await in_call(kit, app, app)
    await add_account(kit.settings, redis, "bo", languages=("ASL",), topics=("phone",))
    bo_app = await kit.logged_in(app, "bo")
    bo_ws = Peer(await bo_app.ws_connect("/ws"))
    kit.sockets.append(bo_ws.ws)
    await bo_ws.send({"type": "hello", "role": "agent"})
    await bo_ws.expect("welcome")
    await bo_ws.send({"type": "status", "status": "available"})
    _customer2, customer2_ws, _ = await kit.connected_customer(app)
    offer = await bo_ws.expect("offer")
    await bo_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    bo_session = await bo_ws.expect("session")
    await customer2_ws.expect("session")
    before = await queue_state(queue_of(app))

    # Ana's customer names Bo's session: refused, nothing relayed to anyone.
    theirs = bo_session["session_id"]
    await ana_customer_ws.send({"type": "signal", "session_id": theirs, "data": {"candidate": None}})
    assert (await ana_customer_ws.expect("error"))["code"] == "wrong_session"
    await ana_customer_ws.send({"type": "chat", "session_id": theirs, "id": "c1", "text": "hello?"})
    assert (await ana_customer_ws.expect("error"))["code"] == "wrong_session"
    await ana_customer_ws.send({"type": "end", "session_id": theirs})
    assert (await ana_customer_ws.expect("error"))["code"] == "wrong_session"
    # Ana writes into Bo's session record: forbidden.
    await ana_ws.send({"type": "note", "session_id": theirs, "text": "not mine"})
    assert (await ana_ws.expect("error"))["code"] == "forbidden"
    await ana_ws.send({"type": "wrap_up", "session_id": theirs, "outcome": "resolved"})
    assert (await ana_ws.expect("error"))["code"] == "forbidden"

    # Markers sent after the refusals arrive first: nothing was relayed before them.
    await customer2_ws.send({"type": "signal", "data": {"candidate": None}, "session_id": theirs})
    await ana_customer_ws.send({"type": "chat", "id": "c2", "text": "marker"})
    assert (await bo_ws.expect("signal"))["data"] == {"candidate": None}
    assert (await ana_ws.expect("chat"))["id"] == "c2"
    assert not [m for m in bo_ws.seen if m["type"] == "chat"]
    assert not [m for m in ana_ws.seen if m["type"] in ("signal", "ended")]
    assert await queue_state(queue_of(app)) == before
    assert ana_session["session_id"] != theirs


async def test_no_hello_first_or_in_time_closes_4401(kit: CallKit) -> None:
    app = await kit.app(ws_hello_timeout_s=0.3)
    peer = Peer(await app.ws_connect("/ws"))
    await peer.send({"type": "ping"})
    assert (await peer.expect("error"))["code"] == "no_hello"
    assert await peer.closed() == 4401
    silent = Peer(await app.ws_connect("/ws"))
    assert await silent.closed() == 4401
    assert silent.seen[0]["code"] == "no_hello"


async def test_bad_hellos_close_with_their_codes(kit: CallKit) -> None:
    app = await kit.app()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"type": "hello", "role": "admin"}, 4400, "bad_field"),
        ({"type": "hello", "role": "customer"}, 4400, "bad_field"),
        ({"type": "hello", "role": "customer", "token": "short"}, 4400, "bad_field"),
        ({"type": "hello", "role": "customer", "token": "A" * 43}, 4404, "unknown_ticket"),
        ({"type": "hello", "role": "agent"}, 4401, "unauthenticated"),  # no cookie
    ]
    for hello, code, error in cases:
        peer = Peer(await app.ws_connect("/ws"))
        await peer.send(hello)
        assert (await peer.expect("error"))["code"] == error, hello
        assert await peer.closed() == code, hello


async def test_agent_hello_needs_a_live_agent_login_from_this_origin(kit: CallKit, redis: Redis) -> None:
    app = await kit.app()
    # A forged cookie.
    forged = Peer(
        await app.ws_connect("/ws", headers={"Cookie": "signlink_session=forged-session-id-000000"})
    )
    await forged.send({"type": "hello", "role": "agent"})
    assert (await forged.expect("error"))["code"] == "unauthenticated"
    assert await forged.closed() == 4401
    # A QA account is not an agent.
    await add_account(kit.settings, redis, "quinn", role=Role.QA)
    qa = await kit.logged_in(app, "quinn")
    peer = Peer(await qa.ws_connect("/ws"))
    await peer.send({"type": "hello", "role": "agent"})
    assert (await peer.expect("error"))["code"] == "forbidden"
    assert await peer.closed() == 4403
    # A real agent login, but the page is on another site.
    agent, _ws, _ = await kit.agent(app, ready=False)
    foreign = Peer(await agent.app.ws_connect("/ws", headers={"Origin": "https://evil.example"}))
    await foreign.send({"type": "hello", "role": "agent"})
    assert (await foreign.expect("error"))["code"] == "forbidden"
    assert await foreign.closed() == 4403


async def test_a_second_connection_of_a_party_replaces_the_first_with_4409(kit: CallKit) -> None:
    app, other_app = await kit.app(), await kit.app()
    await kit.agent(app, ready=False)
    customer, first, welcome = await kit.connected_customer(app)
    second = await customer.connect()
    kit.sockets.append(second.ws)
    assert (await second.expect("welcome"))["state"]["position"] == welcome["state"]["position"]
    assert await first.closed() == 4409
    # ... also across processes.
    third = await customer.connect(other_app)
    kit.sockets.append(third.ws)
    await third.expect("welcome")
    assert await second.closed() == 4409
    await third.ping()


async def test_the_rate_limit_answers_then_closes_a_flood(kit: CallKit) -> None:
    slow = await kit.app(ws_rate_per_s=2.0, ws_rate_burst=5)
    await kit.agent(slow, "bo", ready=False)
    customer = await kit.customer(slow)
    limited = await customer.connect()
    kit.sockets.append(limited.ws)
    await limited.expect("welcome")
    for _ in range(8):
        await limited.send({"type": "ping"})
    assert (await limited.expect("error"))["code"] == "rate_limited"
    assert len([m for m in limited.seen if m["type"] == "pong"]) <= 5
    await asyncio.sleep(1.0)  # the bucket refills: served again
    await limited.ping()
    for _ in range(20):
        await limited.send({"type": "ping"})
    assert await limited.closed() == 1008
    ticket = await queue_of(slow).get_ticket(customer.ticket_id)
    assert ticket.state is TicketState.WAITING


async def test_an_agents_status_messages_and_queue_are_intact_after_errors(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    await agent_ws.send({"type": "accept", "offer_id": "o999999999999"})
    assert (await agent_ws.expect("error"))["code"] in ("not_found", "closed")
    await agent_ws.send({"type": "status", "status": "sleeping"})
    assert (await agent_ws.expect("error"))["code"] == "bad_field"
    assert (await queue_of(app).get_agent("ana")).status is AgentStatus.AVAILABLE
    await agent_ws.send({"type": "hello", "role": "agent"})
    assert (await agent_ws.expect("error"))["code"] == "already_identified"
    await agent_ws.ping()


async def test_an_agent_whose_login_ends_is_closed_at_the_next_ping(kit: CallKit) -> None:
    app = await kit.app()
    agent, agent_ws, _ = await kit.agent(app)
    token = await csrf_token(agent.app)
    logout = await agent.app.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert logout.status == 303
    await agent_ws.send({"type": "ping"})
    assert (await agent_ws.expect("error"))["code"] == "unauthenticated"
    assert await agent_ws.closed() == 4401
