"""Monthly partitions: made ahead of the events that need them, dropped whole once past the retention.

Every records table is `PARTITION BY RANGE (part)` with `part` = the first day of a UTC month.
A month's partition is dropped when its whole month ended more than `retention_days` ago, so a
record is kept at least `retention_days` and at most a month longer; dropping is a catalog change,
as cheap at 100 million rows as at 100.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import asyncpg

TABLES = (
    "tickets",
    "ticket_agents",
    "ticket_events",
    "verdicts",
    "call_sessions",
    "session_notes",
    "quality_samples",
    "waiting_samples",
    "hourly",
    "hourly_failing",
    "hourly_agents",
)
LOCK_KEY = 0x5167_5061  # pg_advisory_lock key of partition changes
_PART = re.compile(r"^(?P<table>[a-z_]+)_(?P<y>\d{4})_(?P<m>\d{2})$")


def month_of(epoch: float) -> date:
    moment = datetime.fromtimestamp(epoch, UTC)
    return date(moment.year, moment.month, 1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def oldest_kept(now: float, retention_days: int) -> date:
    """The first month that still holds records younger than the retention."""
    cutoff = datetime.fromtimestamp(now, UTC) - timedelta(days=retention_days)
    return date(cutoff.year, cutoff.month, 1)


def _name(table: str, month: date) -> str:
    return f"{table}_{month.year:04d}_{month.month:02d}"


async def ensure(conn: asyncpg.Connection, months: set[date]) -> None:
    """Make the partitions of `months` for every table (idempotent; safe from several processes:
    one at a time under an advisory lock, since IF NOT EXISTS alone races)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        for month in sorted(months):
            for table in TABLES:
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {_name(table, month)} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
                )


async def existing(conn: asyncpg.Connection) -> dict[str, list[date]]:
    rows = await conn.fetch(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY($1::text[])",
        list(TABLES),
    )
    out: dict[str, list[date]] = {}
    for row in rows:
        m = _PART.match(row["name"])
        if m:
            out.setdefault(m["table"], []).append(date(int(m["y"]), int(m["m"]), 1))
    return out


async def drop_expired(conn: asyncpg.Connection, now: float, retention_days: int) -> list[str]:
    """Drop every partition whose month is wholly older than the retention; the names dropped."""
    keep_from = oldest_kept(now, retention_days)
    dropped = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        for table, months in (await existing(conn)).items():
            for month in months:
                if month < keep_from:
                    name = _name(table, month)
                    await conn.execute(f"DROP TABLE IF EXISTS {name}")
                    dropped.append(name)
    return dropped
