"""Opening hours in PostgreSQL (tables hours_calendars, hours_overrides; migration 003_hours.sql).

A line is (sign language, topic); topic '' is every topic of the language, and a line with no row is
open 24/7. Only this module writes those tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from signlink.db.database import Database
from signlink.errors import NotFound
from signlink.hours import parse
from signlink.hours.calendar import ALWAYS_OPEN, Calendar, ForceState, Override, Slot

Line = tuple[str, str]  # (language, topic or "")


@dataclass(frozen=True)
class Stored:
    line: Line
    calendar: Calendar
    updated_by: str
    updated_at: datetime


class HoursStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> dict[Line, Stored]:
        """Every line with hours (a few dozen rows: read whole)."""
        async with self.db.connection() as conn:
            rows = await conn.fetch("SELECT * FROM hours_calendars")
            overrides = await conn.fetch("SELECT * FROM hours_overrides ORDER BY starts, id")
        by_line: dict[Line, list[dict[str, object]]] = {}
        for o in overrides:
            by_line.setdefault((o["language"], o["topic"]), []).append(dict(o))
        out: dict[Line, Stored] = {}
        for row in rows:
            line = (row["language"], row["topic"])
            calendar = parse.calendar_from_row(dict(row), by_line.get(line, []))
            out[line] = Stored(line, calendar, row["updated_by"], row["updated_at"])
        return out

    async def save_weekly(self, line: Line, time_zone: str, weekly: tuple[Slot, ...], by: str) -> None:
        Calendar(time_zone, weekly)  # validates the zone
        await self.db.fetchrow(
            "INSERT INTO hours_calendars (language, topic, time_zone, weekly, updated_by)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (language, topic) DO UPDATE SET"
            " time_zone = EXCLUDED.time_zone, weekly = EXCLUDED.weekly,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            *line,
            time_zone,
            parse.slots_json(weekly),
            by,
        )

    async def _ensure(self, conn: asyncpg.Connection, line: Line, time_zone: str, by: str) -> None:
        # An override or force on a line without hours: the line gets the 24/7 week first.
        await conn.execute(
            "INSERT INTO hours_calendars (language, topic, time_zone, weekly, updated_by)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            *line,
            time_zone,
            parse.slots_json(ALWAYS_OPEN.weekly),
            by,
        )

    async def add_override(self, line: Line, override: Override, by: str, default_zone: str) -> int:
        async with self.db.transaction() as conn:
            await self._ensure(conn, line, default_zone, by)
            value = await conn.fetchval(
                "INSERT INTO hours_overrides (language, topic, starts, ends, kind, hours, reason, created_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                *line,
                override.starts,
                override.ends,
                override.kind.value,
                [list(h) for h in override.hours],
                override.reason,
                by,
            )
            await conn.execute(
                "UPDATE hours_calendars SET updated_by = $3, updated_at = now()"
                " WHERE language = $1 AND topic = $2",
                *line,
                by,
            )
        return int(value)

    async def delete_override(self, line: Line, override_id: int) -> None:
        row = await self.db.fetchrow(
            "DELETE FROM hours_overrides WHERE id = $1 AND language = $2 AND topic = $3 RETURNING id",
            override_id,
            *line,
        )
        if row is None:
            raise NotFound("no such override")

    async def set_force(
        self,
        line: Line,
        state: ForceState | None,
        *,
        since: datetime,
        until: datetime | None,
        reason: str,
        by: str,
        default_zone: str,
    ) -> None:
        """Force the line open or closed (None: back to its hours)."""
        async with self.db.transaction() as conn:
            await self._ensure(conn, line, default_zone, by)
            await conn.execute(
                "UPDATE hours_calendars SET force_state = $3, force_since = $4, force_until = $5,"
                " force_reason = $6, updated_by = $7, updated_at = now() WHERE language = $1 AND topic = $2",
                *line,
                state.value if state else None,
                since if state else None,
                until if state else None,
                reason if state else None,
                by,
            )

    async def delete(self, line: Line) -> None:
        """Forget the line's hours (it is open 24/7 again, or follows its language's hours)."""
        await self.db.fetchrow("DELETE FROM hours_calendars WHERE language = $1 AND topic = $2", *line)

    async def purge_overrides(self, before: date) -> None:
        await self.db.fetchrow("DELETE FROM hours_overrides WHERE ends < $1", before)
