"""What QA asks for: a period and filters (pure; records/sql.py makes the WHERE clause of them).

Periods are whole UTC hours: `start` is rounded down, `end` up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from signlink.records.row import Row
from signlink.records.ticket import CheckStatus

HOUR = 3600
DAY = 86400


class OutcomeFilter(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    UNSERVED = "unserved"
    TRANSFERRED = "transferred"  # answered and moved on to another queue at least once
    WAITING = "waiting"


class CheckFilter(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    CONTINUED = "continued"
    NONE = "none"


def steps(start_hour: int, end_hour: int, step_hours: int) -> list[tuple[int, int, int]]:
    """The series' points over [start_hour, end_hour): (label, from, to) in hours. Points fall on whole
    steps of UTC time (days start at midnight); the first and last are cut to the period, and
    labelled with the whole step they are part of."""
    out = []
    h = start_hour
    while h < end_hour:
        label = h // step_hours * step_hours
        until = min(label + step_hours, end_hour)
        out.append((label, h, until))
        h = until
    return out


@dataclass(frozen=True)
class Filters:
    start: float  # epoch seconds, a whole hour
    end: float  # exclusive, a whole hour
    language: str | None = None
    topic: str | None = None
    agent: str | None = None
    outcome: OutcomeFilter | None = None
    flagged: bool | None = None
    check: CheckFilter | None = None

    @classmethod
    def period(cls, start: float, end: float, **others: object) -> Filters:
        return cls(
            start=math.floor(start / HOUR) * HOUR,
            end=math.ceil(end / HOUR) * HOUR,
            **others,  # type: ignore[arg-type]
        )

    @property
    def start_hour(self) -> int:
        return int(self.start // HOUR)

    @property
    def end_hour(self) -> int:
        return int(self.end // HOUR)

    def matches(self, row: Row) -> bool:
        if not self.start <= row.at < self.end:
            return False
        if self.language is not None and row.language != self.language:
            return False
        if self.topic is not None and row.topic != self.topic:
            return False
        if self.agent is not None and self.agent not in row.agents:
            return False
        if self.outcome is not None:
            if self.outcome is OutcomeFilter.TRANSFERRED:
                if not row.transferred:
                    return False
            elif row.outcome.value != self.outcome.value:
                return False
        if self.flagged is not None and row.flagged != self.flagged:
            return False
        return self.check is None or row.check == CheckStatus(self.check.value).value
