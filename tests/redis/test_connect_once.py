"""Two coroutines connecting one connection at once (a PubSub's reader reconnecting while a handler
unsubscribes, after a failover) open one socket, on every deployment form."""

from __future__ import annotations

import asyncio
import gc

from tests.conftest import Topology


async def test_two_connects_at_once_open_one_socket(topology: Topology) -> None:
    client = topology.connect()
    conn = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    await asyncio.gather(conn.connect(), conn.connect())
    assert await client.ping()
    await conn.disconnect()
    await client.aclose()
    del conn
    gc.collect()  # a second socket, replaced and never closed, warns here (filterwarnings = error)
