"""The customer's booking as an iCalendar file (RFC 5545): one event at the centre, or the pickup window."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from signlink.cases.view import CaseView

PRODID = "-//signlink//service case//EN"


def booking_ics(case: CaseView, *, title: str, case_url: str, now: datetime | None = None) -> bytes:
    """One VEVENT for the active booking (ValueError if there is none). Times are UTC: every reader
    shows them in the customer's own zone."""
    booking = case.booking
    if booking is None or booking.starts_at is None or booking.ends_at is None:
        raise ValueError("the case has no active booking")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"{case.number}-{int(booking.starts_at.timestamp())}@signlink")
    event.add("dtstamp", now or datetime.now(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("summary", f"{title} {case.number}")
    if booking.centre is not None:
        event.add("location", f"{booking.centre['name']}, {booking.centre['address']}")
        event.add("geo", (booking.centre["lat"], booking.centre["lon"]))
    else:
        event.add("location", booking.pickup_address)
    event.add("description", case_url)
    event.add("url", case_url)
    cal.add_component(event)
    return bytes(cal.to_ical())
