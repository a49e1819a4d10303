"""The schema's versions: plain numbered SQL files (db/migrations/NNN_name.sql) applied in order.

`signlink db migrate` applies the missing ones, each in its own transaction with its row in
`schema_version`, under an advisory lock (two processes migrating at once wait for each other).
`require_current` is what a starting service asks: it refuses an unmigrated or newer schema.
A branch's new migration takes the next free number when it merges (docs/operations.md, "Numbering
migrations").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from signlink.errors import ConfigError

LOCK_KEY = 0x5167_4C6E  # pg_advisory_lock key of migrations ("SgLn")
_NAME = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("signlink.db").joinpath("migrations")
    found = []
    for item in folder.iterdir():
        m = _NAME.fullmatch(item.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), item.read_text()))
    found.sort(key=lambda x: x.version)
    if [x.version for x in found] != list(range(1, len(found) + 1)):
        raise ConfigError("signlink/db/migrations must be numbered 001, 002, ... without gaps")
    return found


def latest() -> int:
    return available()[-1].version


async def current(conn: asyncpg.Connection) -> int:
    """The database's schema version (0: never migrated)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    value = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
    return int(value)


async def migrate(conn: asyncpg.Connection) -> list[Migration]:
    """Apply every migration the database lacks; the ones applied."""
    done = []
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        have = await current(conn)
        for step in available():
            if step.version <= have:
                continue
            async with conn.transaction():
                await conn.execute(step.sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES ($1, $2)", step.version, step.name
                )
            done.append(step)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    return done


async def require_current(conn: asyncpg.Connection) -> None:
    """ConfigError unless the database is at exactly this code's schema version."""
    have, want = await current(conn), latest()
    if have < want:
        raise ConfigError(
            f"the database schema is at version {have}, this signlink needs {want}: "
            "run `signlink db migrate` first (docs/operations.md, PostgreSQL)"
        )
    if have > want:
        raise ConfigError(
            f"the database schema is at version {have}, newer than this signlink knows ({want}): "
            "run the signlink release that migrated it"
        )
