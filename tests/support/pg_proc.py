"""A private PostgreSQL for the test session (initdb once, fsync off) and a fresh database per test."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import asyncpg

from signlink.db import partitions, schema
from signlink.db.postgres_server import PostgresServer
from tests.support.redis_proc import free_port

TEMPLATE = "signlink_template"
_numbers = itertools.count(1)


class PostgresProcess:
    """One postgres on 127.0.0.1:<port> (and a socket in its folder). Its folder is made outside
    pytest's tmp (which the postgres user cannot enter when the tests run as root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="signlink-pg-"))
        os.chmod(self.root, 0o755)
        self.server = PostgresServer(self.root / "data", port=free_port(), tcp=True, fsync=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://signlink@127.0.0.1:{self.server.port}/{database}"

    def start(self) -> PostgresProcess:
        self.server.start()
        asyncio.run(self._template())
        return self

    async def start_async(self) -> PostgresProcess:
        """start() from inside an event loop."""
        await asyncio.to_thread(self.server.start)
        await self._template()
        return self

    async def _template(self) -> None:
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            await conn.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await conn.close()
        conn = await asyncpg.connect(self.url(TEMPLATE))
        try:
            await schema.migrate(conn)
        finally:
            await conn.close()

    async def fresh_database(self, *, migrated: bool = True) -> str:
        """A new database (copied from the migrated template: ~30 ms); its URL."""
        name = f"t{os.getpid()}_{next(_numbers)}"
        conn = await asyncpg.connect(self.url())
        try:
            source = TEMPLATE if migrated else "template0"
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE {source} STRATEGY FILE_COPY")
        finally:
            await conn.close()
        return self.url(name)

    def kill(self) -> None:
        """kill -9 of the postmaster and every backend (no shutdown checkpoint)."""
        pid = self.server.pid()
        if not pid:
            return
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        for victim in victims:
            for _ in range(250):
                if not Path(f"/proc/{victim}").exists() or _zombie(victim):
                    break
                time.sleep(0.02)
        # An unreaped (zombie) postmaster still "exists" to the next one's stale-lock check.
        for lock in (self.server.data_dir / "postmaster.pid", *self.server.data_dir.glob(".s.PGSQL.*.lock")):
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()

    def restart(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop("immediate")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


async def empty_database(url: str) -> None:
    """Empty every records table (TRUNCATE through the partitioned parents)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {', '.join(TRUNCATED)}")
    finally:
        await conn.close()


CASE_TABLES = ("bookings", "case_events", "case_tickets", "cases", "slots", "centres")
TRUNCATED = (
    *partitions.TABLES,
    "dead_events",
    "hours_overrides",
    "hours_calendars",
    "video_mail_chunks",
    "video_mails",
    *CASE_TABLES,
)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
