"""Which hours apply to a line now, read through a short per-process cache of the store.

The join path asks `status(language, topic)` for every customer: the calendars (a few dozen rows) are
read whole and kept for `ttl_s`, so a supervisor's change reaches every process within that time.
PostgreSQL away: the last calendars read stay in force; never read at all: every line is open (a
customer is never turned away because the system of record is down; the log says so).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from signlink.errors import BackendUnavailable
from signlink.hours.calendar import ALWAYS_OPEN, Calendar, Status, status
from signlink.hours.store import HoursStore, Line, Stored

log = logging.getLogger(__name__)


class Hours:
    def __init__(
        self, store: HoursStore, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._lines: dict[Line, Stored] | None = None
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def lines(self) -> dict[Line, Stored]:
        if self._lines is not None and time.monotonic() - self._read_at < self.ttl_s:
            return self._lines
        async with self._lock:
            if self._lines is None or time.monotonic() - self._read_at >= self.ttl_s:
                try:
                    self._lines = await self.store.all()
                except BackendUnavailable as exc:
                    log.warning("hours: %s; using the hours last read (none: open)", exc)
                self._read_at = time.monotonic()
        return self._lines or {}

    def forget(self) -> None:
        """After this process changed the hours: read them again on the next question."""
        self._read_at = float("-inf")

    async def calendar(self, language: str, topic: str) -> tuple[Calendar, Line | None]:
        """The calendar that applies: the topic's own, else the language's, else 24/7."""
        lines = await self.lines()
        for line in ((language, topic), (language, "")):
            if line in lines:
                return lines[line].calendar, line
        return ALWAYS_OPEN, None

    async def status(self, language: str, topic: str, now: datetime | None = None) -> tuple[Status, Calendar]:
        calendar, _ = await self.calendar(language, topic)
        moment = now or datetime.fromtimestamp(self.clock(), UTC)
        return status(calendar, moment), calendar
