"""The whole call over /ws on real servers and one Redis: join, offer, accept, relay, chat, end, wrap up."""

from __future__ import annotations

import logging
import re

import pytest
from redis.asyncio import Redis

from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.queue.models import AgentStatus, TicketState
from signlink.records.sessions import SessionRecords
from signlink.records.verdicts import VerdictStore
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, Peer, in_call, kit

__all__ = ["kit"]

OFFER_SDP = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
ANSWER_SDP = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


async def full_call(kit: CallKit, agent_app: App, customer_app: App, redis: Redis) -> None:
    _agent, agent_ws, welcome = await kit.agent(agent_app)
    assert welcome["role"] == "agent"
    assert welcome["state"]["agent"]["id"] == "ana"
    assert welcome["state"]["ice_servers"] == []
    await agent_ws.expect("queue_snapshot")

    customer, customer_ws, hello = await kit.connected_customer(customer_app, device_model="Pixel 9")
    assert hello["state"]["ticket_id"] == customer.ticket_id
    assert hello["state"]["state"] == "waiting"

    offer = await agent_ws.expect("offer")
    assert offer["ticket"]["id"] == customer.ticket_id
    assert offer["ticket"]["language"] == "ASL"
    assert offer["ticket"]["device_model"] == "Pixel 9"
    assert offer["check"] is None  # this customer skipped the check
    assert offer["deadline_ms"] > 0

    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    agent_session = await agent_ws.expect("session")
    customer_session = await customer_ws.expect("session")
    assert agent_session["role"] == "offerer"
    assert customer_session["role"] == "answerer"
    assert agent_session["session_id"] == customer_session["session_id"]
    assert customer_session["peer"]["name"] == "Ana Li"
    assert agent_session["peer"]["connected"] is True
    ended = await agent_ws.expect("offer_ended")
    assert ended["reason"] == "accepted"
    session_id = agent_session["session_id"]

    # SDP and candidates both ways, verbatim.
    await agent_ws.send({"type": "signal", "data": {"sdp": OFFER_SDP}})
    assert (await customer_ws.expect("signal"))["data"] == {"sdp": OFFER_SDP}
    await customer_ws.send({"type": "signal", "data": {"sdp": ANSWER_SDP}})
    assert (await agent_ws.expect("signal"))["data"] == {"sdp": ANSWER_SDP}
    await customer_ws.send({"type": "signal", "data": {"candidate": CANDIDATE}})
    assert (await agent_ws.expect("signal"))["data"] == {"candidate": CANDIDATE}
    await agent_ws.send({"type": "signal", "data": {"candidate": None}})
    assert (await customer_ws.expect("signal"))["data"] == {"candidate": None}

    # Chat: relayed, acknowledged by the receiving page, the ack relayed back.
    await customer_ws.send({"type": "chat", "id": "m-1", "text": "我的手机屏幕坏了"})
    chat = await agent_ws.expect("chat")
    assert chat == {"type": "chat", "id": "m-1", "text": "我的手机屏幕坏了"}
    await agent_ws.send({"type": "chat_ack", "id": "m-1"})
    assert (await customer_ws.expect("chat_ack"))["id"] == "m-1"

    await agent_ws.send({"type": "note", "session_id": session_id, "text": "screen cracked, under warranty"})
    assert (await agent_ws.expect("saved"))["what"] == "note"

    await agent_ws.send({"type": "end"})
    assert await agent_ws.expect("ended") == {"type": "ended", "session_id": session_id, "by": "agent"}
    assert (await customer_ws.expect("ended"))["by"] == "agent"
    assert (await agent_ws.expect("agent", status="wrap_up"))["previous"] == "in_call"

    await agent_ws.send(
        {"type": "wrap_up", "session_id": session_id, "outcome": "repair_booked", "notes": "sent to repair"}
    )
    assert (await agent_ws.expect("saved"))["what"] == "wrap_up"
    await agent_ws.expect("agent", status="available")

    rating = await customer_app.post(
        "/api/ratings", json={"token": customer.token, "score": 5, "comment": "快"}
    )
    assert rating.status == 201

    queue = agent_app.app[keys.QUEUE]
    assert (await queue.get_ticket(customer.ticket_id)).state is TicketState.ENDED
    assert (await queue.get_agent("ana")).status is AgentStatus.AVAILABLE
    record = await SessionRecords(redis, kit.settings.redis_prefix, 3600).get(session_id)
    assert (record.agent_id, record.ticket_id, record.outcome) == ("ana", customer.ticket_id, "repair_booked")
    assert record.wrap_notes == "sent to repair"
    assert [n.text for n in record.notes] == ["screen cracked, under warranty"]
    assert (record.rating, record.rating_comment) == (5, "快")
    # Chat text is relayed, never stored.
    assert "我的手机屏幕坏了".encode() not in await everything_stored(redis)


def _flat(value: object) -> list[bytes]:
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, str):
        return [value.encode()]
    if isinstance(value, dict):
        return [b for k, v in value.items() for b in _flat(k) + _flat(v)]
    if isinstance(value, list | tuple | set):
        return [b for item in value for b in _flat(item)]
    return []


async def everything_stored(redis: Redis) -> bytes:
    """Every key and value in Redis, concatenated."""
    parts: list[object] = []
    for key in await redis.keys("*"):
        kind = await redis.type(key)
        parts.append(key)
        if kind == b"string":
            parts.append(await redis.get(key))
        elif kind == b"hash":
            parts.append(await redis.hgetall(key))
        elif kind == b"zset":
            parts.append(await redis.zrange(key, 0, -1))
        elif kind == b"set":
            parts.append(await redis.smembers(key))
        elif kind == b"list":
            parts.append(await redis.lrange(key, 0, -1))
        elif kind == b"stream":
            parts.append(await redis.xrange(key))
    return b"|".join(_flat(parts))


async def test_full_call_on_one_process(kit: CallKit, redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    app = await kit.app()
    with caplog.at_level(logging.INFO, logger="signlink"):
        await full_call(kit, app, app, redis)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "我的手机屏幕坏了" not in logged  # chat text is never logged
    assert "screen cracked" not in logged  # nor private notes
    assert re.search(r"session s\d+: agent ana took ticket t\d+", logged)


async def test_full_call_with_customer_and_agent_on_two_processes(kit: CallKit, redis: Redis) -> None:
    agent_app, customer_app = await kit.app(), await kit.app()
    assert agent_app.server.port != customer_app.server.port
    await full_call(kit, agent_app, customer_app, redis)


async def test_the_customer_ends_the_call_and_the_agent_is_told(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    _customer, customer_ws, _ = await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    session = await customer_ws.expect("session")
    await customer_ws.send({"type": "end", "session_id": session["session_id"]})
    assert (await agent_ws.expect("ended"))["by"] == "customer"
    assert (await customer_ws.expect("ended"))["by"] == "customer"


async def test_chat_fails_visibly_when_the_peer_is_not_connected(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    _customer, customer_ws, _ = await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    await customer_ws.expect("session")
    await customer_ws.ws.close()
    await agent_ws.expect("peer", state="disconnected")
    await agent_ws.send({"type": "chat", "id": "m-9", "text": "are you there?"})
    failed = await agent_ws.expect("chat_failed")
    assert failed == {"type": "chat_failed", "id": "m-9", "reason": "peer_unavailable"}


async def test_declined_offer_goes_back_and_the_agent_sees_why(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "decline", "offer_id": offer["offer_id"]})
    assert (await agent_ws.expect("offer_ended"))["reason"] == "declined"
    status = await agent_ws.expect("agent", reason="declined")
    assert (status["status"], status["missed"]) == ("available", 1)


async def peers(*sockets: Peer) -> None:
    for peer in sockets:
        await peer.ping()


async def test_an_offer_shows_the_agent_the_customers_failed_check(kit: CallKit, redis: Redis) -> None:
    app = await kit.app()
    verdicts = VerdictStore(redis, kit.settings.redis_prefix, 3600)
    results = tuple(
        CriterionResult(c, Status.FAIL if c in (Criterion.LIGHT, Criterion.HANDS) else Status.PASS, 0.1, 0.5)
        for c in Criterion
    )
    verdict = Verdict(passed=False, complete=True, criteria=results, metrics={})
    verdict_id = await verdicts.save(verdict, check_id="c1", duration_s=4.0)
    await verdicts.mark_continued(verdict_id)
    _agent, agent_ws, _ = await kit.agent(app)
    await kit.connected_customer(app, verdict_id=verdict_id)
    check = (await agent_ws.expect("offer"))["check"]
    assert (check["verdict_id"], check["passed"], check["continued_despite_failure"]) == (
        verdict_id,
        False,
        True,
    )
    failing = {f["criterion"]: f["message"] for f in check["failing"]}
    assert set(failing) == {"light", "hands"}
    assert failing["light"]["en"] and failing["light"]["zh-CN"]


async def test_a_transfer_ends_the_call_for_the_agent_and_requeues_the_customer(
    kit: CallKit, redis: Redis
) -> None:
    app = await kit.app()
    agent_ws, customer_ws, session, _, customer = await in_call(kit, app, app)
    await kit.agent(app, "bo", languages=("BSL",), ready=False)  # BSL is served (bo is online, away)
    await agent_ws.send({"type": "transfer", "language": "HKSL", "topic": "phone"})
    assert (await agent_ws.expect("error"))["code"] == "not_served"
    await agent_ws.send({"type": "transfer", "language": "BSL", "topic": "phone"})
    assert await agent_ws.expect("ended") == {
        "type": "ended",
        "session_id": session["session_id"],
        "by": "transfer",
    }
    moved = await customer_ws.expect("transferred")
    assert (moved["language"], moved["topic"], moved["position"]) == ("BSL", "phone", 1)
    assert not [m for m in customer_ws.seen if m["type"] == "ended"]
    ticket = await app.app[keys.QUEUE].get_ticket(customer.ticket_id)
    assert (ticket.state, ticket.language) == (TicketState.WAITING, "BSL")
    await agent_ws.send({"type": "wrap_up", "session_id": session["session_id"], "outcome": "transferred"})
    assert (await agent_ws.expect("saved"))["what"] == "wrap_up"
    # The customer is waiting again: pings keep the place, leaving works.
    await customer_ws.ping()
    await customer_ws.send({"type": "leave"})
    assert (await customer_ws.expect("left"))["reason"] == "left"


async def test_missed_offers_time_out_and_send_the_agent_away(kit: CallKit) -> None:
    app = await kit.app(offer_timeout_s=0.3, sweep_interval_s=0.1, max_missed_offers=1)
    _agent, agent_ws, _ = await kit.agent(app)
    await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    assert (await agent_ws.expect("offer_ended", offer_id=offer["offer_id"]))["reason"] == "timed_out"
    away = await agent_ws.expect("agent", reason="missed_offers")
    assert (away["status"], away["missed"]) == ("away", 1)


async def test_customers_hear_their_place_change_and_agents_get_snapshots(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app, ready=False)
    snapshot = await agent_ws.expect("queue_snapshot")
    assert snapshot["waiting"] == 0
    first, first_ws, _ = await kit.connected_customer(app)
    _second, second_ws, welcome = await kit.connected_customer(app)
    assert welcome["state"]["position"] == 2
    snapshot = await agent_ws.expect("queue_snapshot", waiting=2)
    line = next(x for x in snapshot["lines"] if (x["language"], x["topic"]) == ("ASL", "phone"))
    assert line["waiting"] == 2
    leave = await app.delete("/api/tickets/current", headers={"Authorization": f"Bearer {first.token}"})
    assert leave.status == 204
    assert (await first_ws.expect("left"))["reason"] == "left"
    update = await second_ws.expect("queue", position=1)
    assert update["waiting_ahead"] == 0
