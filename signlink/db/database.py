"""The PostgreSQL pool of one process (asyncpg), sized by settings; errors become BackendUnavailable.

`Database.open` never fails because the server is away: the pool is made on first use and again
after a failure, so the live path (queue, calls) starts and runs without PostgreSQL and the recorder
catches up when it answers. `healthy()` is what /healthz asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg

from signlink.errors import BackendUnavailable

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
COMMAND_TIMEOUT_S = 30.0
# asyncpg and OS errors that mean "the server is away or the connection broke" (retry later).
DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


async def _init(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 5) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max(min_size, max_size)
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if not self.url:
            raise BackendUnavailable("PostgreSQL is not configured (SIGNLINK_DATABASE_URL is empty)")
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self.url,
                        min_size=self.min_size,
                        max_size=self.max_size,
                        timeout=CONNECT_TIMEOUT_S,
                        command_timeout=COMMAND_TIMEOUT_S,
                        init=_init,
                    )
                except DB_ERRORS as exc:
                    self.last_error = str(exc) or type(exc).__name__
                    raise BackendUnavailable(f"PostgreSQL cannot be reached: {self.last_error}") from exc
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; a broken server or connection raises BackendUnavailable."""
        pool = await self.pool()
        try:
            async with pool.acquire(timeout=CONNECT_TIMEOUT_S) as conn:
                yield cast(asyncpg.Connection, conn)
        except DB_ERRORS as exc:
            self.last_error = str(exc) or type(exc).__name__
            raise BackendUnavailable(f"PostgreSQL: {self.last_error}") from exc
        self.last_error = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(query, *args)
            return row

    async def healthy(self) -> bool:
        try:
            async with self.connection() as conn:
                await conn.fetchval("SELECT 1", timeout=2.0)
        except BackendUnavailable:
            return False
        return True

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*DB_ERRORS):
                await asyncio.wait_for(pool.close(), 5.0)
            pool.terminate()
