"""The bus between processes on a real Redis: delivery, order, reach, junk, and Redis restarting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from signlink.signaling.bus import Bus, BusMessage, CallStarted, Relay, Replace, decode, encode
from tests.conftest import Topology
from tests.support.redis_proc import RedisProcess


class Inbox:
    def __init__(self) -> None:
        self.got: list[tuple[str, BusMessage]] = []
        self.arrived = asyncio.Event()

    def __call__(self, party: str, message: BusMessage) -> None:
        self.got.append((party, message))
        self.arrived.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def two_buses(topology: Topology) -> AsyncIterator[tuple[Bus, Inbox, Bus, Inbox]]:
    """Two processes' ends of the bus on each Redis topology (Cluster: sharded pub/sub)."""
    redis_a, redis_b = topology.connect(), topology.connect()
    inbox_a, inbox_b = Inbox(), Inbox()
    a, b = Bus(redis_a, "bt", inbox_a), Bus(redis_b, "bt", inbox_b)
    await a.start()
    await b.start()
    yield a, inbox_a, b, inbox_b
    await a.close()
    await b.close()
    await redis_a.aclose()
    await redis_b.aclose()


def test_every_message_kind_survives_the_wire() -> None:
    for message in (
        Relay('{"type":"chat","id":"1","text":"你好"}'),
        Replace(7),
        CallStarted("s000000000001", "ana", "Ana Li"),
    ):
        assert decode(encode(message)) == message
    for junk in (b"", b"X{}", b'C{"k":"nope"}', b"C[not json"):
        with pytest.raises(ValueError):
            decode(junk)


async def test_a_message_reaches_the_process_holding_the_party_in_order(
    two_buses: tuple[Bus, Inbox, Bus, Inbox],
) -> None:
    a, inbox_a, b, inbox_b = two_buses
    await a.subscribe("c:t000000000001")
    texts = [f'{{"type":"chat","id":"{i}","text":"x"}}' for i in range(300)]
    for text in texts:
        assert await b.publish("c:t000000000001", Relay(text)) == 1
    await inbox_a.wait_for(300)
    assert [m for _p, m in inbox_a.got] == [Relay(t) for t in texts]
    assert {p for p, _m in inbox_a.got} == {"c:t000000000001"}
    assert inbox_b.got == []


async def test_publish_says_whether_the_party_is_connected_anywhere(
    two_buses: tuple[Bus, Inbox, Bus, Inbox],
) -> None:
    a, inbox_a, b, _ = two_buses
    assert await b.publish("a:ana", Relay("{}")) == 0
    await a.subscribe("a:ana")
    assert await b.publish("a:ana", Relay("{}")) == 1
    await a.unsubscribe("a:ana")
    await a.subscribe("a:someone-else")  # a round trip on a's connection: the unsubscribe is done
    assert await b.publish("a:ana", Relay("{}")) == 0
    await inbox_a.wait_for(1)
    assert len(inbox_a.got) == 1


async def test_junk_on_a_channel_is_dropped_and_delivery_goes_on(
    two_buses: tuple[Bus, Inbox, Bus, Inbox], redis: Redis
) -> None:
    a, inbox_a, b, _ = two_buses
    await a.subscribe("c:t1")
    await redis.publish(a.channel("c:t1"), b"garbage")
    await b.publish("c:t1", Replace(3))
    await inbox_a.wait_for(1)
    assert inbox_a.got == [("c:t1", Replace(3))]


async def test_the_bus_resubscribes_after_redis_restarts(tmp_path: Path) -> None:
    first = RedisProcess(tmp_path / "redis").start()
    second = RedisProcess(tmp_path / "redis", port=first.port)
    client, publisher = Redis.from_url(first.url), Redis.from_url(first.url)
    inbox = Inbox()
    bus = Bus(client, "bt", inbox)
    try:
        await bus.start()
        await bus.subscribe("c:t1")
        first.kill()
        second.start()
        async with asyncio.timeout(10):  # until the reader has reconnected and subscribed again
            reached = 0
            while not reached:
                await asyncio.sleep(0.1)
                reached = await publisher.publish(bus.channel("c:t1"), encode(Relay("back")))
        await inbox.wait_for(1)
        assert inbox.got[-1] == ("c:t1", Relay("back"))
    finally:
        await bus.close()
        await client.aclose()
        await publisher.aclose()
        first.kill()
        second.kill()
