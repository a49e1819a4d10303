"""Two coroutines connecting one connection at once (a PubSub's reader reconnecting while a handler
unsubscribes, after a failover) open one socket, on every deployment form; a connect callback that
reconnects (PubSub re-subscribing on a connection that broke again) does not wait for itself."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from tests.conftest import Topology

DEADLOCK_GUARD_S = 30.0  # a connect waiting for itself would wait forever; nothing here is timed


async def test_two_connects_at_once_open_one_socket(topology: Topology) -> None:
    client = topology.connect()
    conn = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    await asyncio.gather(conn.connect(), conn.connect())
    assert await client.ping()
    await conn.disconnect()
    await client.aclose()
    del conn
    gc.collect()  # a second socket, replaced and never closed, warns here (filterwarnings = error)


class ReconnectsOnce:
    """A connect callback that drops the fresh connection once and connects it again."""

    def __init__(self) -> None:
        self.calls = 0

    async def on_connect(self, conn: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            await conn.disconnect()
            await conn.connect()


async def test_a_connect_callback_may_reconnect(topology: Topology) -> None:
    client = topology.connect()
    conn = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    callback = ReconnectsOnce()
    conn.register_connect_callback(callback.on_connect)
    await asyncio.wait_for(conn.connect(), DEADLOCK_GUARD_S)
    assert callback.calls == 2 and conn.is_connected
    await conn.disconnect()
    await client.aclose()
