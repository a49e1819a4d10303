"""`signlink db migrate | status | import-redis`: the schema's versions, and a one-off copy of records
that an older signlink kept in Redis (docs/operations.md, "PostgreSQL")."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

import asyncpg

from signlink.config import Settings
from signlink.db import schema


def add_parser(commands: Any) -> None:
    db = commands.add_parser(
        "db", help="PostgreSQL: migrate the schema, show its version, import old records"
    )
    db.add_argument("action", choices=["migrate", "status", "import-redis"])


async def _migrate(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        done = await schema.migrate(conn)
        version = await schema.current(conn)
    finally:
        await conn.close()
    for step in done:
        print(f"applied {step.version:03d}_{step.name}")
    print(f"schema at version {version} (this signlink's is {schema.latest()})")
    return 0


async def _status(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        version = await schema.current(conn)
    finally:
        await conn.close()
    want = schema.latest()
    state = "current" if version == want else "needs `signlink db migrate`" if version < want else "newer"
    print(f"schema at version {version}; this signlink's is {want} ({state})")
    return 0 if version == want else 1


def run(settings: Settings, args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        url = settings.database_url
        if not url:
            from signlink.db.locate import resolve

            url = resolve(settings.database_name, settings.data_dir, stack)
        if args.action == "migrate":
            return asyncio.run(_migrate(url))
        if args.action == "status":
            return asyncio.run(_status(url))
        from signlink.db.import_redis import import_redis

        return asyncio.run(import_redis(settings.replace(database_url=url)))
    return 2
