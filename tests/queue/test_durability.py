"""Redis killed with SIGKILL and restarted (append-only file): nothing waiting is lost, the order holds.
Redis unreachable: operations fail fast with BackendUnavailable, the sweeper survives and resumes."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.errors import BackendUnavailable
from signlink.queue.audit import check
from signlink.queue.clock import ManualClock
from signlink.queue.models import AgentStatus, JoinRequest, TicketState
from signlink.queue.store import QueueStore
from signlink.queue.sweeper import Sweeper
from signlink.web import keys
from signlink.web.app import create_app
from tests.queue.conftest import T0, token
from tests.support.redis_proc import RedisProcess, free_port


def _queues(dump: dict[str, Any]) -> dict[str, list[str]]:
    """Each skill queue's ticket ids in order."""
    return {p["name"]: p["wait"][::2] if isinstance(p["wait"], list) else [] for p in dump["pairs"]}


def _hash(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


async def test_kill_9_and_restart_keeps_every_waiting_ticket_in_order(
    tmp_path: Path, qsettings: Settings
) -> None:
    server = RedisProcess(tmp_path / "aof", appendonly=True).start()
    clock = ManualClock(T0)
    rng = random.Random(7)
    redis = Redis.from_url(server.url)
    try:
        store = QueueStore(redis, qsettings, clock=clock)
        await store.agent_login("a1", ["ASL", "BSL"], ["phone", "pc"])
        await store.agent_login("a2", ["CSL"], ["repair"], ready=True)
        for _ in range(60):
            clock.advance(rng.uniform(0, 20))
            lang, topic = rng.choice([("ASL", "phone"), ("ASL", "pc"), ("BSL", "pc"), ("CSL", "repair")])
            await store.join(JoinRequest(token(), lang, topic, rng.choice(qsettings.priority_classes)))
        before = await store.dump()
        order = _queues(before)
        assert sum(len(ids) for ids in order.values()) >= 55  # a few went on offer to a2
        server.kill()
        with pytest.raises(BackendUnavailable, match="cannot reach Redis"):
            await store.snapshot()
    finally:
        await redis.aclose()

    restarted = RedisProcess(tmp_path / "aof", appendonly=True, port=server.port).start()
    redis = Redis.from_url(restarted.url)
    try:
        store = QueueStore(redis, qsettings, clock=clock)
        after = await store.dump()  # the scripts are loaded again transparently (NOSCRIPT)
        assert _queues(after) == order
        assert _hash(after["tickets"]) == _hash(before["tickets"])  # every record, byte for byte
        assert check(after) == []
        update = await store.agent_ready("a1")  # the queue carries on where it stopped
        asl_bsl = [order[name] for name in ("ASL/phone", "ASL/pc", "BSL/phone", "BSL/pc")]
        heads = {ids[0] for ids in asl_bsl if ids}
        assert update.offer is not None and update.offer.ticket_id in heads
    finally:
        await redis.aclose()
        restarted.stop()


async def test_unreachable_redis_fails_fast_with_a_clear_error(qsettings: Settings) -> None:
    redis = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    store = QueueStore(redis, qsettings)
    try:
        with pytest.raises(BackendUnavailable, match="queue unavailable: cannot reach Redis"):
            await store.join(JoinRequest(token(), "ASL", "phone", "normal"))
        with pytest.raises(BackendUnavailable):
            await store.get_ticket("t000000000001")
        with pytest.raises(BackendUnavailable):
            await store.read_events()
    finally:
        await redis.aclose()


async def test_sweeper_rides_out_an_outage_and_resumes(tmp_path: Path, qsettings: Settings) -> None:
    server = RedisProcess(tmp_path / "outage").start()
    redis = Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
    clock = ManualClock(T0)
    store = QueueStore(redis, qsettings, clock=clock)
    sweeper = Sweeper(store, interval_s=0.02)
    try:
        await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
        server.kill()
        sweeper.start()
        await asyncio.sleep(0.2)  # several failed rounds
        server = RedisProcess(tmp_path / "outage", port=server.port).start()  # empty: no AOF
        await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
        placed = await store.join(JoinRequest(token(), "ASL", "phone", "normal"))
        assert placed.offer is not None
        clock.advance(21)
        for _ in range(200):  # the sweeper, not this test, expires the offer
            if (await store.get_agent("a1")).status is not AgentStatus.ON_OFFER:
                break
            await asyncio.sleep(0.02)
        assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    finally:
        await sweeper.stop()
        await redis.aclose()
        server.stop()


async def test_the_app_runs_a_queue_store_and_a_sweeper(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    app = create_app(settings.replace(offer_timeout_s=0.2, sweep_interval_s=0.02))
    client = await aiohttp_client(app)
    store = client.app[keys.QUEUE]
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await store.join(JoinRequest(token(), "ASL", "phone", "normal"))
    assert placed.offer is not None
    for _ in range(200):  # Redis' clock runs; the app's sweeper expires the offer
        if (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING:
            break
        await asyncio.sleep(0.02)
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    assert (await store.get_agent("a1")).missed == 1
