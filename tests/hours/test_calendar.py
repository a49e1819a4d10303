"""Hours: weekly boundary, holidays, extra openings, force open/close, DST, Spring Festival 2027."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from signlink.errors import BadRequest
from signlink.hours import parse
from signlink.hours.calendar import (
    ALWAYS_OPEN,
    Calendar,
    Force,
    ForceState,
    Override,
    OverrideKind,
    status,
)

SH = "Asia/Shanghai"
WEEKDAYS_9_TO_6 = ["09:00-18:00"] * 5 + ["", ""]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def calendar(days: list[str], tz: str = SH, **kw: object) -> Calendar:
    return Calendar(tz, parse.weekly(days), **kw)  # type: ignore[arg-type]


def test_open_inside_a_slot_says_when_it_closes() -> None:
    found = status(calendar(WEEKDAYS_9_TO_6), at("2027-01-06T12:00+08:00"))
    assert found.open and found.closes_at == at("2027-01-06T18:00+08:00")
    assert found.next_opening is None


def test_friday_evening_next_opening_is_monday_across_the_weekly_boundary() -> None:
    found = status(calendar(WEEKDAYS_9_TO_6), at("2027-01-08T18:00+08:00"))  # Friday, the closing minute
    assert not found.open
    assert found.next_opening == at("2027-01-11T09:00+08:00")


def test_sunday_night_into_monday_morning_is_one_opening() -> None:
    days = ["00:00-08:00", "", "", "", "", "", "20:00-24:00"]
    found = status(calendar(days), at("2027-01-10T22:00+08:00"))  # Sunday
    assert found.open and found.closes_at == at("2027-01-11T08:00+08:00")


def test_always_open_has_no_closing() -> None:
    found = status(ALWAYS_OPEN, at("2027-02-06T03:00+00:00"))
    assert found.open and found.closes_at is None and found.next_opening is None


def test_holiday_closure_moves_the_next_opening_past_it_and_names_the_reason() -> None:
    holiday = Override(date(2027, 1, 1), date(2027, 1, 1), OverrideKind.CLOSED, "New Year's Day")
    cal = calendar(WEEKDAYS_9_TO_6, overrides=(holiday,))
    found = status(cal, at("2027-01-01T10:00+08:00"))  # a Friday, normally open
    assert not found.open and found.reason == "New Year's Day"
    assert found.next_opening == at("2027-01-04T09:00+08:00")
    before = status(cal, at("2026-12-31T17:00+08:00"))
    assert before.open and before.closes_at == at("2026-12-31T18:00+08:00")


def test_spring_festival_2027_closure_with_a_service_day_inside() -> None:
    # Lunar New Year 2027 is Saturday 6 February; a closure from the eve to the 7th day, with one
    # extra opening (a service day) on the 8th: the shorter override wins on its day.
    festival = Override(date(2027, 2, 5), date(2027, 2, 12), OverrideKind.CLOSED, "Spring Festival")
    service_day = Override(
        date(2027, 2, 8), date(2027, 2, 8), OverrideKind.OPEN, "Service day", parse.ranges("10:00-16:00")
    )
    cal = calendar(WEEKDAYS_9_TO_6, overrides=(festival, service_day))
    eve = status(cal, at("2027-02-04T17:30+08:00"))
    assert eve.open and eve.closes_at == at("2027-02-04T18:00+08:00")
    new_year = status(cal, at("2027-02-06T12:00+08:00"))
    assert not new_year.open and new_year.reason == "Spring Festival"
    assert new_year.next_opening == at("2027-02-08T10:00+08:00")
    on_service_day = status(cal, at("2027-02-08T11:00+08:00"))
    assert on_service_day.open and on_service_day.reason == "Service day"
    assert on_service_day.closes_at == at("2027-02-08T16:00+08:00")
    after = status(cal, at("2027-02-08T16:00+08:00"))
    assert not after.open and after.next_opening == at("2027-02-15T09:00+08:00")


def test_extra_opening_on_a_weekend_day() -> None:
    first_saturday = Override(date(2027, 3, 6), date(2027, 3, 6), OverrideKind.OPEN, "Service day")
    found = status(calendar(WEEKDAYS_9_TO_6, overrides=(first_saturday,)), at("2027-03-05T20:00+08:00"))
    assert not found.open and found.next_opening == at("2027-03-06T00:00+08:00")


def test_force_close_until_a_time_then_the_hours_resume() -> None:
    force = Force(ForceState.CLOSED, at("2027-01-06T10:00+08:00"), at("2027-01-06T14:00+08:00"), "fire drill")
    cal = calendar(WEEKDAYS_9_TO_6, force=force)
    found = status(cal, at("2027-01-06T11:00+08:00"))
    assert not found.open and found.forced and found.reason == "fire drill"
    assert found.next_opening == at("2027-01-06T14:00+08:00")
    before = status(cal, at("2027-01-06T09:30+08:00"))
    assert before.open and before.closes_at == at("2027-01-06T10:00+08:00")
    assert status(cal, at("2027-01-06T15:00+08:00")).open


def test_force_close_without_end_has_no_next_opening() -> None:
    cal = calendar(WEEKDAYS_9_TO_6, force=Force(ForceState.CLOSED, at("2027-01-06T10:00+08:00")))
    found = status(cal, at("2027-01-07T10:00+08:00"))
    assert not found.open and found.forced and found.next_opening is None


def test_force_open_on_a_sunday_until_evening() -> None:
    force = Force(ForceState.OPEN, at("2027-01-10T09:00+08:00"), at("2027-01-10T20:00+08:00"), "outage help")
    found = status(calendar(WEEKDAYS_9_TO_6, force=force), at("2027-01-10T12:00+08:00"))
    assert found.open and found.forced and found.closes_at == at("2027-01-10T20:00+08:00")


def test_dst_start_moves_the_opening_in_utc_not_in_local_time() -> None:
    # New York: clocks go forward on Sunday 14 March 2027. 09:00 local is 14:00 UTC before, 13:00 after.
    cal = calendar(WEEKDAYS_9_TO_6, tz="America/New_York")
    friday = status(cal, at("2027-03-12T18:00-05:00"))
    assert friday.next_opening == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    before = status(cal, at("2027-03-05T18:00-05:00"))
    assert before.next_opening == datetime(2027, 3, 8, 14, 0, tzinfo=UTC)


def test_a_slot_the_spring_forward_hour_swallows_opens_never_and_fall_back_repeats_nothing() -> None:
    # London, Sunday 28 March 2027: 01:00-02:00 local does not exist.
    cal = calendar(["", "", "", "", "", "", "01:00-02:00"], tz="Europe/London")
    found = status(cal, at("2027-03-27T12:00+00:00"))
    assert found.next_opening is not None and found.next_opening.date() > date(2027, 3, 28)
    # Sunday 31 October 2027: 01:00-02:00 happens twice; the slot is the first pass (fold=0).
    autumn = status(cal, at("2027-10-30T12:00+01:00"))
    assert autumn.next_opening == datetime(2027, 10, 31, 0, 0, tzinfo=UTC)


def test_changing_the_time_zone_moves_the_same_local_hours() -> None:
    shanghai = status(calendar(WEEKDAYS_9_TO_6), at("2027-01-06T08:00+00:00"))
    london = status(calendar(WEEKDAYS_9_TO_6, tz="Europe/London"), at("2027-01-06T08:00+00:00"))
    assert shanghai.open and not london.open
    assert london.next_opening == datetime(2027, 1, 6, 9, 0, tzinfo=UTC)


def test_bad_hours_and_zones_get_clear_errors() -> None:
    with pytest.raises(BadRequest, match="09:00-17:00"):
        parse.ranges("nine to five")
    with pytest.raises(BadRequest, match="overlap"):
        parse.ranges("09:00-12:00, 11:00-13:00")
    with pytest.raises(BadRequest, match="before"):
        parse.ranges("18:00-09:00")
    with pytest.raises(BadRequest, match="time zone"):
        Calendar("Mars/Olympus", ())
    with pytest.raises(BadRequest, match="reason"):
        parse.override("2027-02-05", "2027-02-12", "closed", "", " ")


def test_weekly_text_round_trips() -> None:
    days = ["09:00-12:00, 13:00-17:30", "", "00:00-24:00", "", "", "", ""]
    assert parse.weekly_texts(parse.weekly(days)) == days
