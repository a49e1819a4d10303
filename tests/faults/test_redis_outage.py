"""Redis outages: waiting customers and a running call outlive Redis being killed or stopped.

The sockets stay open through the outage (the server vouches for them, not only the pages' pings), so
when Redis is back nobody is abandoned, the order is kept, no one hears `peer disconnected`, and the
call relays again. Grace is short here (3 s) and the outage several times longer; the long outage
lasts SIGNLINK_FAULT_OUTAGE_S (default 60 s: the test takes about 80 s; set it lower for a quick run).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from signlink.queue.models import TicketState
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, Peer, in_call
from tests.support.redis_proc import RedisProcess

GRACE_S = 3.0
OUTAGE_S = 4 * GRACE_S
LONG_OUTAGE_S = float(os.environ.get("SIGNLINK_FAULT_OUTAGE_S", "60"))
FAULT = {"heartbeat_grace_s": GRACE_S, "sweep_interval_s": 0.2, "call_presence_interval_s": 0.2}


async def _recovered(app: App, within: float = 20.0) -> float:
    """Seconds until the app's queue answers again."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        while True:
            try:
                await app.app[keys.QUEUE].snapshot()
                return time.monotonic() - start
            except Exception:
                await asyncio.sleep(0.1)


def _spurious(peer: Peer) -> list[dict[str, Any]]:
    """What a party must never hear because of an outage: its peer gone, its place given up."""
    return [m for m in peer.seen if m["type"] in ("left", "ended") or m.get("state") == "disconnected"]


async def _listen(peers: list[Peer], seconds: float) -> None:
    """Keep reading every socket for `seconds`, as a browser does: a client that reads nothing never
    answers the server's WebSocket pings (every 20 s) and is closed for it. What arrives is kept."""

    async def one(peer: Peer) -> None:
        with contextlib.suppress(TimeoutError):
            await peer.expect("nothing-is-of-this-type", within=seconds)

    await asyncio.gather(*(one(p) for p in peers))


async def _scene(kit: CallKit) -> tuple[App, App, Peer, Peer, list[tuple[str, Peer]]]:
    """Two processes: a call (agent on one, customer on the other) and five customers waiting."""
    first, second = await kit.app(**FAULT), await kit.app(**FAULT)
    agent_ws, customer_ws, _, _, _ = await in_call(kit, first, second)
    waiting = []
    for i in range(5):
        customer, peer, welcome = await kit.connected_customer(first if i % 2 else second, topic="pc")
        assert welcome["state"]["position"] == i + 1
        waiting.append((customer.ticket_id, peer))
    return first, second, agent_ws, customer_ws, waiting


async def _check_after(
    kit: CallKit, first: App, agent_ws: Peer, customer_ws: Peer, waiting: list[tuple[str, Peer]]
) -> None:
    # Well past the grace after Redis came back: still everyone in place, in order.
    await asyncio.sleep(2 * GRACE_S)
    queue = first.app[keys.QUEUE]
    positions = await queue.positions([t for t, _ in waiting])
    assert [positions[t].position for t, _ in waiting] == [1, 2, 3, 4, 5]
    assert all(positions[t].state is TicketState.WAITING for t, _ in waiting)
    for _, peer in waiting:
        assert not peer.ws.closed
    # The call relays both ways again and nobody was told of a drop.
    await agent_ws.send({"type": "chat", "id": "after-outage", "text": "still here?"})
    assert (await customer_ws.expect("chat", within=10))["id"] == "after-outage"
    await customer_ws.send({"type": "chat", "id": "reply", "text": "yes"})
    assert (await agent_ws.expect("chat", within=10))["id"] == "reply"
    for peer in [agent_ws, customer_ws, *(p for _, p in waiting)]:
        await peer.ping()  # drains what was sent, so `seen` holds everything
        assert _spurious(peer) == []
    dump = await kit.redis.hlen(f"{kit.settings.redis_prefix}:queue:tickets")
    assert dump == 6  # no ticket lost or made twice


@pytest.mark.slow
@pytest.mark.parametrize("outage_s", [OUTAGE_S, LONG_OUTAGE_S], ids=["four-graces", "long"])
async def test_redis_killed_and_down_abandons_nobody(
    fault_kit: CallKit, own_redis: RedisProcess, outage_s: float
) -> None:
    first, second, agent_ws, customer_ws, waiting = await _scene(fault_kit)
    own_redis.kill()
    await _listen([agent_ws, customer_ws, *(p for _, p in waiting)], outage_s)
    own_redis.start()  # same port, same AOF
    await fault_kit.redis.aclose()
    fault_kit.redis = Redis.from_url(own_redis.url)
    print(f"recovered in {await _recovered(first):.2f} s / {await _recovered(second):.2f} s")
    await _check_after(fault_kit, first, agent_ws, customer_ws, waiting)


@pytest.mark.slow
async def test_redis_stopped_and_continued_abandons_nobody(
    fault_kit: CallKit, own_redis: RedisProcess
) -> None:
    first, _second, agent_ws, customer_ws, waiting = await _scene(fault_kit)
    assert own_redis.process is not None
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(OUTAGE_S)
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    print(f"recovered in {await _recovered(first):.2f} s")
    await _check_after(fault_kit, first, agent_ws, customer_ws, waiting)
