"""Which PostgreSQL `signlink serve` uses when SIGNLINK_DATABASE_URL is empty (README, "Database").

First a PostgreSQL already running here (the local socket, then 127.0.0.1:5432) that lets us connect
as the `postgres` role or as ourselves and open or create our database; else a private server under
`var/postgres` (db/postgres_server.py), started now and stopped on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import logging
from collections.abc import Callable
from pathlib import Path

import asyncpg

from signlink.db.postgres_server import PostgresServer
from signlink.errors import BackendUnavailable

log = logging.getLogger(__name__)

SOCKET_DIRS = ("/var/run/postgresql", "/tmp")
LOCAL_PORT = 5432
PRIVATE_PORT = 5433


def _candidates() -> list[Callable[[str], str]]:
    """URL makers (database name -> URL) for a PostgreSQL running here."""
    users = dict.fromkeys(["postgres", getpass.getuser()])
    out: list[Callable[[str], str]] = []
    for user in users:
        for folder in SOCKET_DIRS:
            if Path(folder, f".s.PGSQL.{LOCAL_PORT}").exists():
                out.append(functools.partial(_socket_url, user, folder))
        out.append(functools.partial(_tcp_url, user))
    return out


def _socket_url(user: str, folder: str, database: str) -> str:
    return f"postgresql://{user}@/{database}?host={folder}&port={LOCAL_PORT}"


def _tcp_url(user: str, database: str) -> str:
    return f"postgresql://{user}@127.0.0.1:{LOCAL_PORT}/{database}"


async def _usable(url: str, admin_url: str, database: str) -> bool:
    """Can we open `database` at `url`, creating it through `admin_url` (the postgres database)?"""
    try:
        conn = await asyncpg.connect(url, timeout=2)
    except asyncpg.InvalidCatalogNameError:
        try:
            admin = await asyncpg.connect(admin_url, timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        except asyncpg.PostgresError as exc:
            log.info("the PostgreSQL at %s does not let us create %s: %s", admin_url, database, exc)
            return False
        finally:
            await admin.close()
        return True
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def find_local(database: str) -> str | None:
    for make in _candidates():
        if await _usable(make(database), make("postgres"), database):
            return make(database)
    return None


def resolve(database: str, data_dir: Path, stack: contextlib.ExitStack) -> str:
    """The URL to use: a local PostgreSQL's, else a private server's (stopped when `stack` closes)."""
    url = asyncio.run(find_local(database))
    if url is not None:
        log.info("using the PostgreSQL already running here (%s)", url.split("?")[0])
        return url
    server = stack.enter_context(PostgresServer(data_dir / "postgres", port=PRIVATE_PORT))
    admin = server.url("postgres")
    if not asyncio.run(_usable(server.url(database), admin, database)):
        raise BackendUnavailable(f"cannot create the database {database} in the private postgres ({admin})")
    return server.url(database)
