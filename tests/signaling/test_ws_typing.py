"""The typing indicator: `typing` is parsed strictly, relayed to the peer in a call, and stored nowhere."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from signlink.signaling import protocol as p
from tests.signaling.call_client import CallKit, kit

__all__ = ["kit"]


def test_typing_parses_a_boolean_and_refuses_anything_else() -> None:
    assert p.parse(json.dumps({"type": "typing", "active": True})) == p.Typing(True)
    stopped = {"type": "typing", "active": False, "session_id": "s1"}
    assert p.parse(json.dumps(stopped)) == p.Typing(False, "s1")
    for bad in ({"type": "typing"}, {"type": "typing", "active": "yes"}, {"type": "typing", "active": 1}):
        with pytest.raises(p.ProtocolError) as caught:
            p.parse(json.dumps(bad))
        assert caught.value.code == "bad_field"
    assert p.allowed(p.Role.CUSTOMER, p.Typing(True)) and p.allowed(p.Role.AGENT, p.Typing(True))


async def test_typing_is_relayed_both_ways_and_never_stored(kit: CallKit, redis: Redis) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    _customer, customer_ws, _ = await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    await customer_ws.expect("session")
    await customer_ws.send({"type": "typing", "active": True})
    assert await agent_ws.expect("typing") == {"type": "typing", "active": True}
    await agent_ws.send({"type": "typing", "active": True})
    assert await customer_ws.expect("typing") == {"type": "typing", "active": True}
    await customer_ws.send({"type": "typing", "active": False})
    assert await agent_ws.expect("typing") == {"type": "typing", "active": False}

    assert "typing" not in await everything_in(redis)


async def everything_in(redis: Redis) -> str:
    """Every key and value in Redis as one text (strings, hashes, lists, sets, sorted sets, streams)."""
    parts: list[str] = []
    for key in await redis.keys("*"):
        raw = await redis.type(key)
        kind = raw.decode() if isinstance(raw, bytes) else raw
        value: object
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1)
        else:
            value = await redis.xrange(key)
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


async def test_typing_outside_a_call_is_refused(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    await agent_ws.send({"type": "typing", "active": True})
    error = await agent_ws.expect("error")
    assert error["code"] == "no_session"
