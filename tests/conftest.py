"""Fixtures shared by every test: a private Redis, settings, the app through its factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from tests.support import loopback_ice
from tests.support.media import media_dir
from tests.support.redis_proc import RedisProcess

loopback_ice.install()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One private redis-server for the whole run (the tests may run in a loopback-only namespace)."""
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(redis_server: RedisProcess, redis: Redis) -> Settings:
    """Settings for a test app: the private Redis (flushed), the project's models."""
    return Settings(redis_url=redis_server.url, model_dir=PROJECT_ROOT / "models")


@pytest.fixture(scope="session")
def media() -> Path:
    return media_dir()
