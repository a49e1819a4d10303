"""Seeded hostile input over the WebSocket: every message type from both sides of a live call, broken
in thousands of ways, and hostile first frames. Nothing crashes, nothing is logged with a traceback,
a refused message changes no queue state and reaches no one, and the call and the queue are intact.
A failure names its seed and case (replay with SIGNLINK_FUZZ_SEED=<seed>)."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from aiohttp import WSMsgType

from signlink.queue import audit
from signlink.queue.models import TicketState
from signlink.signaling import protocol as p
from signlink.web import keys
from tests.fuzz.hostile import Hostile
from tests.signaling.call_client import CallKit, Peer, in_call, kit

__all__ = ["kit"]
SEED = int(os.environ.get("SIGNLINK_FUZZ_SEED", "11"))
CASES_PER_SIDE = 2000
HELLOS = 150
UNLIMITED = {"ws_rate_per_s": 1e6, "ws_rate_burst": 1_000_000, "limit_tickets_per_address": 0}
OTHER = "s-someone-else"  # a session id of the right form that is not this call's
RELAYED = {"chat", "chat_ack", "signal"}  # what a peer receives when the server accepts them
# Messages the server would act on for good (ending the call): the fuzzer sends only broken ones.
DESTRUCTIVE = (p.End, p.Leave)

SHARED: list[dict[str, Any]] = [
    {"type": "ping"},
    {"type": "chat", "id": "f-1", "text": "hello", "session_id": OTHER},
    {"type": "chat_ack", "id": "f-1", "session_id": OTHER},
    {"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0\r\n"}}, "session_id": OTHER},
    {
        "type": "signal",
        "data": {"candidate": {"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host", "sdpMid": "0"}},
        "session_id": OTHER,
    },
    {"type": "end", "session_id": OTHER},
    {"type": "stats", "session_id": OTHER, "rtt_ms": 5, "fps": 30, "width": 640},
    {"type": "hello", "role": "customer", "token": "x" * 43, "pc": "live"},
    {"type": "status", "status": "away"},
    {"type": "accept", "offer_id": "o-none"},
    {"type": "decline", "offer_id": "o-none"},
    {"type": "wrap_up", "session_id": OTHER, "outcome": "resolved", "notes": "n", "next": "away"},
    {"type": "transfer", "language": "XSL", "topic": "nothing"},
    {"type": "note", "session_id": OTHER, "text": "note"},
]
AGENT_ONLY = [{"type": "leave"}]  # not allowed for an agent: refused, never acted on


def in_session(session_id: str) -> list[dict[str, Any]]:
    """Messages of this very call (and without a session id): they pass the checks and go deeper."""
    own: list[dict[str, Any]] = []
    for message in SHARED:
        if message.get("session_id") == OTHER and message["type"] in RELAYED | {"stats"}:
            own += [
                {**message, "session_id": session_id},
                {k: v for k, v in message.items() if k != "session_id"},
            ]
    return own


def _cases(rng: Hostile, templates: list[dict[str, Any]], count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        text = rng.text(rng.choice(templates))
        try:
            message = p.parse(text)
        except p.ProtocolError:
            message = None
        if isinstance(message, DESTRUCTIVE) and getattr(message, "session_id", OTHER) != OTHER:
            continue  # a valid end of this call (or leave): not hostile, just the end of the test
        out.append(text)
    return out


def _kind(text: str) -> str | None:
    try:
        return p.parse(text).type
    except p.ProtocolError:
        return None


async def _round(sender: Peer, text: str) -> list[dict[str, Any]]:
    """Send one case, then a ping: everything the sender got up to its pong (a case may be a ping)."""
    await sender.ws.send_str(text)
    await sender.send({"type": "ping"})
    pongs = 2 if _kind(text) == "ping" else 1
    got = []
    while pongs:
        message = await sender.next()
        if message["type"] == "pong":
            pongs -= 1
        else:
            got.append(message)
    return got


@pytest.mark.slow
async def test_hostile_messages_from_both_sides_of_a_call(
    kit: CallKit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = await kit.app(**UNLIMITED)
    agent_ws, customer_ws, session, _, customer = await in_call(kit, app, app)
    _, observer_ws, observer = await kit.connected_customer(app, topic="pc")
    queue = app.app[keys.QUEUE]
    rng = Hostile(SEED)
    accepted = {"agent": 0, "customer": 0}
    own = in_session(session["session_id"])
    sides = [
        ("customer", customer_ws, agent_ws, SHARED + own),
        ("agent", agent_ws, customer_ws, SHARED + own + AGENT_ONLY),
    ]
    for name, sender, _peer, templates in sides:
        for case, text in enumerate(_cases(rng, templates, CASES_PER_SIDE)):
            where = f"seed {SEED}, {name} case {case}: {text[:200]!r}"
            events = await queue.redis.xlen(queue.events_key)
            got = await _round(sender, text)
            errors = [m for m in got if m["type"] == "error"]
            assert not sender.ws.closed, where
            assert all(e["code"] != "internal" for e in errors), f"{where}: {errors}"
            if errors:  # refused: nothing happened in the queue
                assert await queue.redis.xlen(queue.events_key) == events, f"{where}: {errors}"
            elif _kind(text) in RELAYED:
                accepted[name] += 1
    # The peers got exactly what the server accepted, nothing refused.
    for name, peer in (("customer", agent_ws), ("agent", customer_ws)):
        await peer.ping()
        relayed = [m for m in peer.seen if m["type"] in RELAYED]
        assert len(relayed) <= accepted[name], f"seed {SEED}: {name} got refused messages relayed"
    # The call, the waiting customer and the queue are as they were.
    assert (await queue.get_ticket(customer.ticket_id)).state is TicketState.IN_CALL
    assert (await queue.position(observer["state"]["ticket_id"])).position == 1
    await observer_ws.ping()
    assert not [m for m in observer_ws.seen if m["type"] in ("left", "error")]
    assert audit.check(await queue.dump()) == []
    _no_tracebacks(caplog)


@pytest.mark.slow
async def test_hostile_first_frames_close_with_a_documented_code(
    kit: CallKit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = await kit.app(**UNLIMITED)
    await kit.agent(app, ready=False)
    customer = await kit.customer(app)
    rng = Hostile(SEED + 1)
    hellos = [
        {"type": "hello", "role": "customer", "token": customer.token, "pc": "new"},
        {"type": "hello", "role": "agent", "pc": "live"},
        {"type": "ping"},
    ]
    codes: set[int] = set()
    for case in range(HELLOS):
        text = rng.text(rng.choice(hellos))
        ws = await app.ws_connect("/ws")
        await ws.send_str(text)
        welcomed = False
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type is not WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            assert data.get("code") != "internal", f"seed {SEED + 1}, case {case}: {text[:200]!r}"
            if data["type"] == "welcome":
                welcomed = True  # a mutation that kept the hello valid (an extra field, say)
                break
        await ws.close()
        if not welcomed:
            codes.add(int(ws.close_code or 0))
    documented = {c.value for c in p.CloseCode}
    assert codes and codes <= documented, f"seed {SEED + 1}: close codes {codes - documented}"
    _no_tracebacks(caplog)


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, f"seed {SEED}: {[r.getMessage() for r in bad[:5]]}"
