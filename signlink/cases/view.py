"""A case as its readers see it (the agent, the customer's case page, the .ics): its fields, the status
history, and the active booking with the centre's address and hours or the courier pickup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signlink.db.database import Database
from signlink.errors import NotFound

# What to bring, as codes the pages translate; the serial is on the case already (asked once).
BRING = {
    "centre": ("device", "case_number", "proof_of_purchase"),
    "mail_in": ("device_packed", "case_number"),
}


@dataclass(frozen=True)
class Event:
    status: str
    note: str
    at: datetime


@dataclass(frozen=True)
class BookingView:
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None
    centre: dict[str, Any] | None  # code, name, address, city, district, tz, hours, lat, lon, sample
    pickup_address: str
    shipping_ref: str
    bring: tuple[str, ...]


@dataclass(frozen=True)
class CaseView:
    id: int
    number: str
    token: str
    ticket_id: str
    agent: str
    device_model: str
    serial: str
    topic: str
    verdict_id: str
    category: str
    description: str
    outcome: str
    status: str
    repeat_of_number: str | None
    opened_at: datetime
    history: tuple[Event, ...]
    booking: BookingView | None


_CASE = (
    "SELECT c.*, r.number AS repeat_of_number FROM cases c LEFT JOIN cases r ON r.id = c.repeat_of WHERE c."
)
_BOOKING = """
SELECT b.kind, b.pickup_from, b.pickup_until, b.pickup_address, b.shipping_ref, s.starts_at, s.ends_at,
       ce.code, ce.name, ce.address, ce.province, ce.city, ce.district, ce.tz, ce.hours, ce.lat, ce.lon,
       ce.sample
FROM bookings b LEFT JOIN slots s ON s.id = b.slot_id LEFT JOIN centres ce ON ce.code = s.centre_code
WHERE b.case_id = $1 AND b.state = 'active'
"""
_CENTRE_FIELDS = (
    "code",
    "name",
    "address",
    "province",
    "city",
    "district",
    "tz",
    "hours",
    "lat",
    "lon",
    "sample",
)


async def load(db: Database, *, number: str | None = None, token: str | None = None) -> CaseView:
    """The case with this number (staff) or customer token; NotFound otherwise."""
    column, value = ("number", number) if number is not None else ("token", token)
    async with db.connection() as conn:
        row = await conn.fetchrow(_CASE + f"{column} = $1", value)
        if row is None:
            raise NotFound("no such case")
        events = await conn.fetch(
            "SELECT status, note, at FROM case_events WHERE case_id = $1 ORDER BY at, id", row["id"]
        )
        b = await conn.fetchrow(_BOOKING, row["id"])
    booking = None
    if b is not None:
        centre = {k: b[k] for k in _CENTRE_FIELDS} if b["code"] is not None else None
        booking = BookingView(
            kind=b["kind"],
            starts_at=b["starts_at"] if b["kind"] == "centre" else b["pickup_from"],
            ends_at=b["ends_at"] if b["kind"] == "centre" else b["pickup_until"],
            centre=centre,
            pickup_address=b["pickup_address"],
            shipping_ref=b["shipping_ref"],
            bring=BRING[b["kind"]],
        )
    return CaseView(
        id=row["id"],
        number=row["number"],
        token=row["token"],
        ticket_id=row["ticket_id"],
        agent=row["agent"],
        device_model=row["device_model"],
        serial=row["serial"],
        topic=row["topic"],
        verdict_id=row["verdict_id"],
        category=row["category"],
        description=row["description"],
        outcome=row["outcome"],
        status=row["status"],
        repeat_of_number=row["repeat_of_number"],
        opened_at=row["opened_at"],
        history=tuple(Event(e["status"], e["note"], e["at"]) for e in events),
        booking=booking,
    )
