"""Queue fixtures: a store (flushed per test) with a manual clock, on each Redis topology in turn.

Every queue test that uses `redis` (or `store`, `join`, `redis_server`) runs against one Redis, a
3-node Redis Cluster and a Sentinel-managed primary (tests/conftest.py `topology`)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from signlink.config import Settings
from signlink.queue import audit
from signlink.queue.clock import ManualClock
from signlink.queue.models import JoinRequest, Placed
from signlink.queue.store import QueueStore
from signlink.redisio import RedisClient
from tests.conftest import Topology

T0 = 1_800_000_000.0
_tokens = itertools.count(1)


def token() -> str:
    return f"customer-token-{next(_tokens):08d}"


@pytest.fixture
def redis_server(topology: Topology) -> Topology:
    """Tests read `.url` (a SIGNLINK_REDIS_URL of any form) and connect with signlink.redisio.connect."""
    return topology


@pytest.fixture
async def redis(topology: Topology) -> AsyncIterator[RedisClient]:
    client = topology.connect()
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def qsettings() -> Settings:
    return Settings(
        sign_languages=("CSL", "ASL", "BSL"),
        topics=("phone", "pc", "repair"),
        priority_classes=("emergency", "callback", "normal"),
        redis_prefix="qtest",
    )


@pytest.fixture
def store(redis: RedisClient, qsettings: Settings, clock: ManualClock) -> QueueStore:
    return QueueStore(redis, qsettings, clock=clock)


Join = Callable[..., Awaitable[Placed]]


@pytest.fixture
def join(store: QueueStore) -> Join:
    async def _join(lang: str = "ASL", topic: str = "phone", cls: str = "normal", **kw: Any) -> Placed:
        return await store.join(JoinRequest(kw.pop("customer_token", token()), lang, topic, cls, **kw))

    return _join


async def assert_consistent(store: QueueStore) -> dict[str, Any]:
    """Every invariant of the queue holds; returns the dump for further checks."""
    dump = await store.dump()
    problems = audit.check(dump)
    assert problems == [], "\n".join(problems)
    return dump


async def state_of(store: QueueStore) -> tuple[dict[str, Any], int]:
    """Everything the queue holds, plus the number of events: equal before and after = nothing changed."""
    dump = await store.dump()
    dump.pop("now")
    return dump, int(await store.redis.xlen(store.events_key))
