"""The hourly roll-ups (db/migrations/002): what one transaction changes in them (pure bookkeeping plus
one upsert per row). Each ticket written adds its new share (records/aggregates.contribution) and
takes away its old one, so a roll-up row always equals the sum of its tickets' shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

from signlink.db import partitions
from signlink.records import aggregates, sql
from signlink.records.row import Row


class Rollup:
    """The changes of one transaction to the hourly roll-ups: each written ticket's new share added and
    its old one taken away (db/migrations/002), summed per row, then upserted in key order."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[date, int, str, str], dict[str, float]] = {}
        self.failing: dict[tuple[date, int, str, str, str], float] = {}
        self.agents: dict[tuple[date, int, str], dict[str, float]] = {}

    def add(self, row: Row | None, sign: int) -> None:
        if row is None:
            return
        part_c = aggregates.contribution(row)
        hour = int(row.at // 3600)
        key = (partitions.month_of(row.at), hour, row.language, row.topic)
        mine = self.pairs.setdefault(key, {})
        for name, value in part_c.fields.items():
            if name.startswith(aggregates.FAIL_PREFIX):
                fkey = (*key, name.removeprefix(aggregates.FAIL_PREFIX))
                self.failing[fkey] = self.failing.get(fkey, 0) + sign * value
            else:
                mine[name] = mine.get(name, 0) + sign * value
        for agent, counters in part_c.agents.items():
            theirs = self.agents.setdefault((key[0], hour, agent), {})
            for name, value in counters.items():
                theirs[name] = theirs.get(name, 0) + sign * value

    async def flush(self, conn: asyncpg.Connection) -> None:
        names = [n for n, _ in sql.EXPRS]
        if self.pairs:
            await conn.executemany(
                UPSERT_HOURLY,
                [(*k, *(v.get(n, 0.0) for n in names)) for k, v in sorted(self.pairs.items())],
            )
        if self.failing:
            await conn.executemany(UPSERT_FAILING, [(*k, v) for k, v in sorted(self.failing.items())])
        if self.agents:
            await conn.executemany(
                UPSERT_HOURLY_AGENTS,
                [(*k, *(v.get(n, 0.0) for n in sql.AGENT_STORED)) for k, v in sorted(self.agents.items())],
            )


def _upsert(table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
    every = [*keys, *columns]
    args = ", ".join(f"${i}" for i in range(1, len(every) + 1))
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({', '.join(every)}) VALUES ({args}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    )


UPSERT_HOURLY = _upsert("hourly", ("part", "hour", "language", "topic"), sql.ROLLUP_COLUMNS)
UPSERT_FAILING = _upsert("hourly_failing", ("part", "hour", "language", "topic", "criterion"), ("n",))
UPSERT_HOURLY_AGENTS = _upsert("hourly_agents", ("part", "hour", "agent"), sql.AGENT_ROLLUP_COLUMNS)
