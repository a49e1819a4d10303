"""The bus's own PUBLISH connection on a real Redis: order, replies, failures, reconnecting, AUTH."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from signlink.errors import BackendUnavailable
from signlink.signaling.publisher import Publisher
from tests.support.redis_proc import RedisProcess


async def subscribed(redis: Redis, channel: bytes) -> PubSub:
    """A subscription Redis has confirmed (so nothing published after this is missed)."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    async with asyncio.timeout(10):
        while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "subscribe":
            pass
    return pubsub


async def collect(pubsub: PubSub, count: int) -> list[bytes]:
    got: list[bytes] = []
    try:
        async with asyncio.timeout(10):
            while len(got) < count:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    got.append(message["data"])
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    return got


@pytest.fixture
async def publisher(redis: Redis) -> AsyncIterator[Publisher]:
    pub = Publisher(redis)
    yield pub
    await pub.close()


async def test_concurrent_publishes_arrive_in_the_order_they_were_made(
    redis: Redis, publisher: Publisher
) -> None:
    listener = Redis.from_url(_url(redis))
    receiving = asyncio.create_task(collect(await subscribed(listener, b"order"), 2000))
    replies = await asyncio.gather(*(publisher.publish(b"order", b"%d" % i) for i in range(2000)))
    assert replies == [1] * 2000
    assert await receiving == [b"%d" % i for i in range(2000)]
    assert await publisher.publish(b"nobody-listens", b"x") == 0
    await listener.aclose()


async def test_a_payload_of_any_bytes_goes_through_unchanged(redis: Redis, publisher: Publisher) -> None:
    payload = 'R{"text":"\\r\\n$3\\r\\n 你好"}'.encode() + bytes(range(256))
    receiving = asyncio.create_task(collect(await subscribed(redis, b"bytes"), 1))
    assert await publisher.publish(b"bytes", payload) == 1
    assert await receiving == [payload]


async def test_failures_raise_and_the_next_publish_reconnects(tmp_path: Path) -> None:
    first = RedisProcess(tmp_path / "redis").start()
    second = RedisProcess(tmp_path / "redis", port=first.port)
    client = Redis.from_url(first.url)
    publisher = Publisher(client)
    try:
        assert await publisher.publish(b"c", b"1") == 0
        first.kill()
        with pytest.raises(BackendUnavailable):
            await publisher.publish(b"c", b"2")
        with pytest.raises(BackendUnavailable):
            await publisher.publish(b"c", b"3")  # nothing listening on the port: refused at once
        second.start()
        assert await publisher.publish(b"c", b"4") == 0
    finally:
        await publisher.close()
        await client.aclose()
        first.kill()
        second.kill()


async def test_it_authenticates_as_the_apps_client_does(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis").start()
    admin = Redis.from_url(server.url)
    try:
        await admin.config_set("requirepass", "s3cret-bus")
        client = Redis.from_url(f"redis://:s3cret-bus@127.0.0.1:{server.port}/0")
        wrong = Redis.from_url(f"redis://:nope@127.0.0.1:{server.port}/0")
        good, bad = Publisher(client), Publisher(wrong)
        assert await good.publish(b"c", b"x") == 0
        with pytest.raises(BackendUnavailable):
            await bad.publish(b"c", b"x")
        await good.close()
        await bad.close()
        await client.aclose()
        await wrong.aclose()
    finally:
        await admin.aclose()
        server.kill()


def _url(redis: Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"
