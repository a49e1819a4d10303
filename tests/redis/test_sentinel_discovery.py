"""Sentinel discovery when many callers discover at once (every request does during a failover) and
the first listed sentinel cannot name the primary: the client keeps asking every sentinel, and
closes its connections to all of them."""

from __future__ import annotations

import asyncio
import gc
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from signlink.redisio import connect
from signlink.redisio.client import SentinelRedis
from tests.support.redis_proc import SERVICE, SentinelProcesses, command, free_port, wait_for


@pytest.fixture
def blind_sentinel(tmp_path: Path) -> Iterator[int]:
    """A sentinel that watches nothing: it answers at once, without the primary."""
    binary = shutil.which("redis-server")
    assert binary
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\nlogfile {tmp_path / 'log'}\n")
    process = subprocess.Popen([binary, str(conf), "--sentinel"])
    try:
        wait_for("the blind sentinel", lambda p: command(p, "PING") == b"+PONG\r\n", port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_overlapping_discoveries_keep_every_sentinel(
    redis_sentinel: SentinelProcesses, blind_sentinel: int
) -> None:
    ports = [blind_sentinel, *redis_sentinel.sentinel_ports]
    client = connect(f"redis+sentinel://{','.join(f'127.0.0.1:{p}' for p in ports)}/{SERVICE}/0")
    assert isinstance(client, SentinelRedis) and client.sentinel_manager is not None
    group = client.sentinel_manager

    answers = await asyncio.gather(*(group.discover_master(SERVICE) for _ in range(20)))

    assert set(answers) == {("127.0.0.1", redis_sentinel.primary_port())}
    asked = [s.connection_pool.connection_kwargs["port"] for s in group.sentinels]
    assert sorted(asked) == sorted(ports)  # none listed twice, none dropped
    assert await client.ping()
    await client.aclose()
    del client, group
    gc.collect()  # a socket left open to any sentinel warns here (filterwarnings = error)
