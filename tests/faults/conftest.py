"""Fault fixtures: a Redis of the test's own (AOF, fsync always) that the test may kill and restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from tests.signaling.call_client import CallKit
from tests.support.redis_proc import RedisProcess


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
async def fault_kit(own_redis: RedisProcess, aiohttp_client: AiohttpClient) -> AsyncIterator[CallKit]:
    """A CallKit whose apps all use `own_redis` (set up first, so the apps close before it stops)."""
    settings = Settings(redis_url=own_redis.url, model_dir=PROJECT_ROOT / "models")
    client = Redis.from_url(own_redis.url)
    kit = CallKit(aiohttp_client, settings, client)
    yield kit
    await kit.close()
    await kit.redis.aclose()  # the test may have replaced it after a restart
