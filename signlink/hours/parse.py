"""Opening hours to and from text and JSON: what the hours page's forms send and what the store keeps.

Hours are written `09:00-12:00, 13:30-18:00` (24:00 is midnight at the end of the day; empty: closed).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from signlink.errors import BadRequest
from signlink.hours.calendar import DAY_MIN, Calendar, Force, ForceState, Override, OverrideKind, Slot, zone

_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*")
REASON_MAX = 200


def _minute(hours: str, minutes: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > DAY_MIN:
        raise BadRequest(f"{hours}:{minutes} is not a time of day (00:00 to 24:00)", code="bad_field")
    return value


def ranges(text: str) -> tuple[tuple[int, int], ...]:
    """`09:00-12:00, 13:00-17:30` -> ((540, 720), (780, 1050)); sorted, overlaps refused."""
    out: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;，、]", text))):
        m = _RANGE.fullmatch(part)
        if not m:
            raise BadRequest(f"{part!r}: write hours as 09:00-17:00", code="bad_field")
        opens, closes = _minute(m[1], m[2]), _minute(m[3], m[4])
        if opens >= closes:
            raise BadRequest(f"{part!r}: the opening must come before the closing", code="bad_field")
        out.append((opens, closes))
    out.sort()
    for first, second in itertools.pairwise(out):
        if second[0] < first[1]:
            raise BadRequest(f"{text!r}: the ranges overlap", code="bad_field")
    return tuple(out)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def ranges_text(pairs: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in pairs)


def weekly(days: Sequence[str]) -> tuple[Slot, ...]:
    """Seven texts, Monday first."""
    if len(days) != 7:
        raise BadRequest("give the hours of all seven days", code="bad_field")
    return tuple(Slot(day, a, b) for day, text in enumerate(days) for a, b in ranges(text))


def weekly_texts(slots: Sequence[Slot]) -> list[str]:
    return [ranges_text(sorted((s.opens, s.closes) for s in slots if s.weekday == day)) for day in range(7)]


def reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise BadRequest("a reason is required", code="bad_field")
    if len(text) > REASON_MAX:
        raise BadRequest(f"a reason is at most {REASON_MAX} characters", code="too_long")
    return text


def day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a date such as 2027-02-05", code="bad_field") from None


def override(starts: str, ends: str, kind: str, hours: str, why: str) -> Override:
    try:
        parsed_kind = OverrideKind(kind)
    except ValueError:
        raise BadRequest("kind must be closed or open", code="bad_field") from None
    return Override(
        day(starts, "from"),
        day(ends or starts, "to"),
        parsed_kind,
        reason(why),
        ranges(hours) if parsed_kind is OverrideKind.OPEN else (),
    )


# The store's JSON forms


def slots_json(slots: Sequence[Slot]) -> list[list[int]]:
    return [[s.weekday, s.opens, s.closes] for s in slots]


def slots_from_json(raw: Any) -> tuple[Slot, ...]:
    return tuple(Slot(int(d), int(a), int(b)) for d, a, b in raw)


def calendar_from_row(row: Mapping[str, Any], overrides: Sequence[Mapping[str, Any]]) -> Calendar:
    force = None
    if row["force_state"]:
        force = Force(
            ForceState(row["force_state"]), row["force_since"], row["force_until"], row["force_reason"] or ""
        )
    return Calendar(
        row["time_zone"],
        slots_from_json(row["weekly"]),
        tuple(
            Override(
                o["starts"],
                o["ends"],
                OverrideKind(o["kind"]),
                o["reason"],
                tuple((int(a), int(b)) for a, b in o["hours"]),
                id=o["id"],
            )
            for o in overrides
        ),
        force,
    )


def moment(text: str, tz_name: str) -> datetime:
    """A local date-time from a form (`2027-02-05T08:00`) in the calendar's zone."""

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest("until must be a date and time such as 2027-02-05T08:00", code="bad_field") from None
    return value if value.tzinfo else value.replace(tzinfo=zone(tz_name))
