"""A line's opening hours as data, and the one question asked of them: open now, closes at, next opening.

Pure: no I/O, no clock (the caller passes `now`, an aware datetime). A calendar is
- a weekly schedule of local slots in an IANA time zone (zoneinfo, so DST is the zone's own rule),
- overrides: a closure or an extra opening over a range of local dates, with a reason
  (Spring Festival, a service day); when several cover a date the one with the shortest range wins
  (a one-day service day inside a week-long closure opens that day); on a tie a closure wins,
- a force open/close a supervisor set, from `since` until `until` (None: until cleared), which beats
  everything else while it lasts.

Local times that a DST change skips or repeats resolve as zoneinfo does with fold=0 (a 02:30 opening
on a spring-forward day opens at 03:30 local; on a fall-back day at the first 02:30).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from signlink.errors import BadRequest

DAY_MIN = 24 * 60
# How far ahead "next opening" and "closes at" look: a closure longer than this reads as "not known".
HORIZON_DAYS = 400
_FIRST_LOOK_DAYS = 15  # most answers are found within two weeks; look further only when not


class OverrideKind(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


class ForceState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Slot:
    """Open on `weekday` (0 Monday .. 6 Sunday) from `opens` to `closes`, minutes after local midnight
    (closes may be 1440: midnight at the end of the day). Overnight hours are two slots."""

    weekday: int
    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise BadRequest("weekday must be 0 (Monday) to 6 (Sunday)", code="bad_field")
        if not 0 <= self.opens < self.closes <= DAY_MIN:
            raise BadRequest("a slot must open before it closes, within one day", code="bad_field")


@dataclass(frozen=True)
class Override:
    """From `starts` to `ends` (local dates, both included): closed, or open for `hours`
    ((opens, closes) minute pairs; empty: the whole day)."""

    starts: date
    ends: date
    kind: OverrideKind
    reason: str
    hours: tuple[tuple[int, int], ...] = ()
    id: int | None = None

    def __post_init__(self) -> None:
        if self.ends < self.starts:
            raise BadRequest("an override must end on or after its first day", code="bad_field")
        if not self.reason.strip():
            raise BadRequest("an override needs a reason (shown to staff)", code="bad_field")
        if self.kind is OverrideKind.CLOSED and self.hours:
            raise BadRequest("a closure has no hours", code="bad_field")
        for opens, closes in self.hours:
            if not 0 <= opens < closes <= DAY_MIN:
                raise BadRequest(
                    "override hours must open before they close, within one day", code="bad_field"
                )

    def covers(self, day: date) -> bool:
        return self.starts <= day <= self.ends

    @property
    def length(self) -> int:
        return (self.ends - self.starts).days


@dataclass(frozen=True)
class Force:
    state: ForceState
    since: datetime
    until: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or (self.until is not None and self.until.tzinfo is None):
            raise BadRequest("force times must carry a time zone", code="bad_field")
        if self.until is not None and self.until <= self.since:
            raise BadRequest("a force must end after it starts", code="bad_field")

    def active(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(
            f"{name!r} is not a known time zone (use an IANA name such as Asia/Shanghai)", code="bad_field"
        ) from None


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    weekly: tuple[Slot, ...]
    overrides: tuple[Override, ...] = ()
    force: Force | None = None

    def __post_init__(self) -> None:
        zone(self.time_zone)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)

    def local_hours(self, day: date) -> tuple[tuple[tuple[int, int], ...], Override | None]:
        """The open minute ranges of one local date, and the override that decided them (if any)."""
        covering = [o for o in self.overrides if o.covers(day)]
        if covering:
            chosen = min(covering, key=lambda o: (o.length, o.kind is not OverrideKind.CLOSED))
            if chosen.kind is OverrideKind.CLOSED:
                return (), chosen
            return (chosen.hours or ((0, DAY_MIN),)), chosen
        slots = sorted((s.opens, s.closes) for s in self.weekly if s.weekday == day.weekday())
        return tuple(slots), None


ALWAYS_OPEN = Calendar(
    "UTC", tuple(Slot(day, 0, DAY_MIN) for day in range(7))
)  # the default of a line nobody has given hours: nothing changes for it


@dataclass(frozen=True)
class Status:
    open: bool
    closes_at: datetime | None  # open: when it closes (None: not within the horizon)
    next_opening: datetime | None  # closed: when it opens (None: not known, e.g. forced closed)
    reason: str = ""  # the override's or force's reason that decides now, else ""
    forced: bool = False


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= DAY_MIN:
        return datetime.combine(day + timedelta(days=1), time(), tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz)


def _intervals(calendar: Calendar, start: date, days: int) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open intervals (UTC, chronological, touching ones merged), ignoring the force."""
    tz = calendar.tz
    current: tuple[datetime, datetime] | None = None
    for offset in range(days):
        day = start + timedelta(days=offset)
        ranges, _ = calendar.local_hours(day)
        for opens, closes in ranges:
            begin = _at(day, opens, tz).astimezone(UTC)
            end = _at(day, closes, tz).astimezone(UTC)
            if end <= begin:  # a slot the DST change swallowed
                continue
            if current is not None and begin <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None:
                yield current
            current = (begin, end)
    if current is not None:
        yield current


def _forced(
    calendar: Calendar, intervals: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    force = calendar.force
    if force is None:
        return intervals
    far = datetime.max.replace(tzinfo=UTC)
    lo, hi = force.since, force.until or far
    out: list[tuple[datetime, datetime]] = []
    for begin, end in intervals:  # cut the force's span out
        if end <= lo or begin >= hi:
            out.append((begin, end))
            continue
        if begin < lo:
            out.append((begin, lo))
        if end > hi:
            out.append((hi, end))
    if force.state is ForceState.OPEN:
        out.append((lo, hi))
    out.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in out:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _answer(
    calendar: Calendar, now: datetime, intervals: list[tuple[datetime, datetime]], horizon: datetime
) -> Status | None:
    """The status from `intervals` (known up to `horizon`), or None if the horizon is too short."""
    force = calendar.force
    forced = force is not None and force.active(now)
    reason = force.reason if forced and force else ""
    if not forced:
        _, deciding = calendar.local_hours(now.astimezone(calendar.tz).date())
        reason = deciding.reason if deciding else ""
    for begin, end in intervals:
        if end <= now:
            continue
        if begin <= now:
            if end >= horizon:
                return None
            return Status(True, end, None, reason, forced)
        return Status(False, None, begin, reason, forced)
    if forced and force is not None and force.until is None:
        return Status(False, None, None, reason, True)  # closed until a supervisor opens it
    return None


def status(calendar: Calendar, now: datetime) -> Status:
    """Open now? When does it close, or when does it open next?"""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    start = now.astimezone(calendar.tz).date() - timedelta(days=1)
    for days in (_FIRST_LOOK_DAYS, HORIZON_DAYS):
        horizon = _at(start + timedelta(days=days), 0, calendar.tz).astimezone(UTC)
        found = _answer(calendar, now, _forced(calendar, list(_intervals(calendar, start, days))), horizon)
        if found is not None:
            return found
    # Open through the whole horizon (24/7), or closed through it (a very long closure).
    intervals = _forced(calendar, list(_intervals(calendar, start, HORIZON_DAYS)))
    is_open = any(begin <= now < end for begin, end in intervals)
    return Status(is_open, None, None, "", calendar.force is not None and calendar.force.active(now))
