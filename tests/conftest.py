"""Fixtures shared by every test: a private Redis, settings, the app through its factory.

`topology` (single | cluster | sentinel) runs a test against each Redis deployment form; each is
started once per session, the first time a test asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from signlink.redisio import RedisClient, connect
from tests.support import loopback_ice
from tests.support.media import media_dir
from tests.support.pg_proc import PostgresProcess, empty_database
from tests.support.redis_proc import ClusterProcesses, RedisProcess, SentinelProcesses

loopback_ice.install()


@pytest.fixture(scope="session")
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One private redis-server for the whole run (the tests may run in a loopback-only namespace)."""
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(redis_process: RedisProcess) -> RedisProcess:
    """The single Redis (tests/queue overrides this with the topology under test)."""
    return redis_process


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcesses]:
    """A 3-primary Redis Cluster for the whole run."""
    cluster = ClusterProcesses(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelProcesses]:
    """A primary, a replica and three sentinels for the whole run (failover tests make their own)."""
    group = SentinelProcesses(tmp_path_factory.mktemp("sentinel")).start()
    yield group
    group.stop()


@dataclass(frozen=True)
class Topology:
    """One Redis deployment form and its SIGNLINK_REDIS_URL."""

    name: str
    url: str

    def connect(self) -> RedisClient:
        return connect(self.url, max_connections=50, socket_timeout=5.0)


TOPOLOGIES = ("single", "cluster", "sentinel")


@pytest.fixture(scope="session", params=TOPOLOGIES)
def topology(request: pytest.FixtureRequest) -> Topology:
    """Parametrises a test over one Redis, a Redis Cluster and a Sentinel-managed primary."""
    name = str(request.param)
    fixture = {"single": "redis_process", "cluster": "redis_cluster", "sentinel": "redis_sentinel"}[name]
    server: RedisProcess | ClusterProcesses | SentinelProcesses = request.getfixturevalue(fixture)
    return Topology(name, server.url)


@pytest.fixture
async def redis(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresProcess]:
    """One private PostgreSQL for the whole run (initdb once, fsync off), with a migrated template."""
    server = PostgresProcess().start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def pg_shared(pg_server: PostgresProcess) -> str:
    """One migrated database shared by the run's tests (emptied before each test that asks for it)."""
    import asyncio

    return asyncio.run(pg_server.fresh_database())


@pytest.fixture
async def database_url(pg_shared: str) -> str:
    """The shared test database, every record table emptied (a few ms)."""
    await empty_database(pg_shared)
    return pg_shared


@pytest.fixture
async def fresh_database_url(pg_server: PostgresProcess) -> str:
    """A database of its own (copied from the migrated template, ~70 ms): for tests that change it."""
    return await pg_server.fresh_database()


@pytest.fixture
def settings(redis_server: RedisProcess, redis: Redis, database_url: str) -> Settings:
    """Settings for a test app: the private Redis (flushed), PostgreSQL (emptied), the project's models."""
    return Settings(redis_url=redis_server.url, database_url=database_url, model_dir=PROJECT_ROOT / "models")


@pytest.fixture(scope="session")
def media() -> Path:
    return media_dir()
