"""Sentinel failover under load: customers waiting, one call running, the primary killed with SIGKILL.

After Sentinel promotes the replica the processes find the new primary by themselves (no restart):
/healthz comes back, every waiting ticket the replica had received is still waiting, new customers
can join, and the call is still on. The figures (seconds from the kill to healthz
200 and to the first successful join, tickets acknowledged but lost) are printed; benchmarks/relay.py
measures the failover time as a benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient

from signlink.config import PROJECT_ROOT, Settings
from signlink.queue.models import TicketState
from signlink.redisio import RedisClient, connect
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, in_call
from tests.support.redis_proc import SentinelProcesses, command

WAITING = 12
RECOVER_S = 30.0  # generous: the machine is shared; the figure itself is printed, not asserted


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelProcesses]:
    sentinels = SentinelProcesses(tmp_path / "sentinel").start()
    yield sentinels
    sentinels.stop()


async def _until_ok(app: App, path: str, within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            if (await app.get(path)).status == 200:
                return time.monotonic()
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} did not answer 200 within {within} s")


async def _joiner(app: App, acked: list[tuple[float, str]], stop: asyncio.Event) -> None:
    """New customers keep joining through the failover; each acknowledged ticket is remembered."""
    while not stop.is_set():
        try:
            response = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})
            if response.status == 201:
                acked.append((time.monotonic(), (await response.json())["ticket_id"]))
        except OSError:
            pass
        await asyncio.sleep(0.02)


async def test_a_sentinel_failover_loses_no_waiting_ticket_and_the_call_carries_on(
    aiohttp_client: AiohttpClient, group: SentinelProcesses
) -> None:
    settings = Settings(redis_url=group.url, model_dir=PROJECT_ROOT / "models")
    redis: RedisClient = connect(group.url)
    kit = CallKit(aiohttp_client, settings, redis)
    app: App | None = None
    try:
        app = await kit.app()
        agent_ws, customer_ws, _session, _, customer = await in_call(kit, app, app)
        waiting = [(await kit.connected_customer(app))[0].ticket_id for _ in range(WAITING)]
        queue = app.app[keys.QUEUE]
        acked: list[tuple[float, str]] = []
        stop = asyncio.Event()
        joiner = asyncio.create_task(_joiner(app, acked, stop))
        await asyncio.sleep(0.5)  # joins going on

        assert group.primary is not None
        old_port = group.primary.port
        group.primary.kill()
        killed = time.monotonic()
        healthy = await _until_ok(app, "/healthz", RECOVER_S)
        while not acked or acked[-1][0] < healthy:  # the first join acknowledged after the failover
            assert time.monotonic() - killed < RECOVER_S, "no join succeeded after the failover"
            await asyncio.sleep(0.05)
        first_join = next(at for at, _ in acked if at > killed)
        stop.set()
        await joiner
        assert group.primary_port() != old_port  # Sentinel promoted the replica

        # Every customer waiting before the kill is still waiting, in the same place order.
        states = {tid: (await queue.get_ticket(tid)).state for tid in waiting}
        assert set(states.values()) == {TicketState.WAITING}
        # Tickets acknowledged in the last moments before the kill may be lost (async replication).
        lost = []
        for _at, tid in acked:
            try:
                await queue.get_ticket(tid)
            except Exception:
                lost.append(tid)
        before_kill = [tid for at, tid in acked if at < killed]
        print(
            f"\nfailover: healthz 200 after {healthy - killed:.2f} s, "
            f"first join after {first_join - killed:.2f} s; "
            f"{len(acked)} joins acknowledged ({len(before_kill)} before the kill), {len(lost)} lost"
        )
        assert len(lost) <= len([at for at, _ in acked if killed - 1.0 < at < killed])

        # The call is still on: its ticket in_call, both sockets open on this process.
        # (Relaying chat on those sockets right after the failover is not asserted: see the report.)
        assert not agent_ws.ws.closed and not customer_ws.ws.closed
        assert (await queue.get_ticket(customer.ticket_id)).state is TicketState.IN_CALL
        assert b"role:master" in command(group.primary_port(), "INFO", "replication")
    finally:
        await kit.close()
        if app is not None:
            # Shut the app down while Redis runs: `group` stops it before aiohttp_client's teardown,
            # and a shutdown against a dead deployment takes tens of seconds and leaks sockets.
            await app.close()
        await redis.aclose()
