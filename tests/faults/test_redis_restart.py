"""After a Redis restart no process serves from stale connections: /healthz says 503 while Redis is
away and 200 only when requests work, and from that moment hellos, joins and logins succeed at the
first try, even in a burst that needs every pooled connection (all of them died with the old Redis)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from signlink.signaling.bus import Relay
from signlink.signaling.presence import customer_party
from signlink.web import keys
from tests.signaling.call_client import App, CallKit
from tests.support.redis_proc import RedisProcess
from tests.support.staff import Client, login

BURST = 20
FAULT = {
    "sweep_interval_s": 0.2,
    "call_presence_interval_s": 0.2,
    "limit_tickets_per_address": 0,
}  # one test client


async def _health(app: App) -> int:
    return (await app.get("/healthz")).status


async def _burst(kit: CallKit, app: App) -> list[str]:
    """BURST customers joining and saying hello at once; what went wrong (nothing, we hope)."""

    async def one() -> str:
        response = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})
        if response.status != 201:
            return f"join {response.status} {await response.text()}"
        token = (await response.json())["token"]
        ws = await app.ws_connect("/ws")
        kit.sockets.append(ws)
        await ws.send_json({"type": "hello", "role": "customer", "token": token, "pc": "new"})
        first: dict[str, Any] = await ws.receive_json(timeout=10)
        return "" if first["type"] == "welcome" else f"hello {first}"

    return [r for r in await asyncio.gather(*(one() for _ in range(BURST))) if r]


async def _login_and_hello(kit: CallKit, app: App) -> str:
    """A new login of the agent and its console's hello; what went wrong."""
    client = cast(Client, await kit._client(app.server))
    response = await login(client, "ana")
    if response.status != 303:
        return f"login {response.status}"
    ws = await client.ws_connect("/ws")
    kit.sockets.append(ws)
    await ws.send_json({"type": "hello", "role": "agent", "pc": "new"})
    first: dict[str, Any] = await ws.receive_json(timeout=10)
    return "" if first["type"] == "welcome" else f"agent hello {first}"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill", "restart"])
async def test_after_a_redis_restart_healthz_200_means_requests_work(
    fault_kit: CallKit, own_redis: RedisProcess, how: str
) -> None:
    apps = [await fault_kit.app(**FAULT), await fault_kit.app(**FAULT)]
    _, agent_ws, _ = await fault_kit.agent(apps[0], ready=False)  # ASL is served: customers may wait
    first, first_ws, _ = await fault_kit.connected_customer(apps[1])  # first in line, through it all
    for app in apps:
        assert await _burst(fault_kit, app) == []  # every pool now holds BURST-odd connections
        assert await _health(app) == 200
    if how == "kill":
        own_redis.kill()
    else:
        own_redis.stop()  # a clean shutdown: Redis closes its clients' sockets itself
    for app in apps:
        assert await _health(app) == 503
        # Clients keep trying meanwhile (and fail): that must not leave anything broken behind.
        assert await _burst(fault_kit, app) != []
        assert await _login_and_hello(fault_kit, app) != ""
    own_redis.start()  # same port, same AOF
    started = time.monotonic()
    await fault_kit.redis.aclose()
    fault_kit.redis = Redis.from_url(own_redis.url)
    for app in reversed(apps):  # the first customer's process first: its 200 must mean reachable
        async with asyncio.timeout(20):
            while await _health(app) != 200:  # noqa: ASYNC110 (polling from outside, as a balancer does)
                await asyncio.sleep(0.02)
        print(f"{how}: healthz 200 {time.monotonic() - started:.3f} s after Redis was back")
        if app is apps[1]:  # a message from the other process reaches the customer's socket now
            bus = apps[0].app[keys.CALLS].hub.bus
            assert await bus.publish(customer_party(first.ticket_id), Relay('{"type":"pong"}')) == 1
    # From the first 200 on, everything works at once (no retry by the client). Sockets that lived
    # through it are reachable again: the first customer's call starts...
    await agent_ws.send({"type": "status", "status": "available"})
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await agent_ws.expect("session"))["peer"]["connected"] is True
    await first_ws.expect("session")
    # ... and new customers and logins are served.
    for app in apps:
        assert await _burst(fault_kit, app) == []
        assert await _login_and_hello(fault_kit, app) == ""
