"""Slots and bookings: capacity is taken by one conditional UPDATE, so the last place of a slot goes to
exactly one booking however many processes ask at once; cancelling gives it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from signlink.db.database import Database
from signlink.errors import BadRequest, Conflict, NotFound

PICKUP_MAX_WINDOW = timedelta(hours=12)
PICKUP_MAX_AHEAD = timedelta(days=30)
ADDRESS_MAX_CHARS = 300

_TAKE = "UPDATE slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity RETURNING id"
_GIVE = "UPDATE slots SET booked = booked - 1 WHERE id = $1 AND booked > 0"


class SlotFull(Conflict):
    code = "slot_full"


@dataclass(frozen=True)
class MailIn:
    """A courier pickup: a window (aware datetimes), the address, the shipping reference if known yet."""

    pickup_from: datetime
    pickup_until: datetime
    pickup_address: str
    shipping_ref: str = ""

    def check(self, now: datetime) -> None:
        if self.pickup_from.tzinfo is None or self.pickup_until.tzinfo is None:
            raise BadRequest("pickup times need a UTC offset", code="bad_field")
        if not now < self.pickup_from < self.pickup_until <= self.pickup_from + PICKUP_MAX_WINDOW:
            raise BadRequest("the pickup window must be in the future and at most 12 hours", code="bad_field")
        if self.pickup_from > now + PICKUP_MAX_AHEAD:
            raise BadRequest("the pickup must be within 30 days", code="bad_field")
        if not self.pickup_address.strip() or len(self.pickup_address) > ADDRESS_MAX_CHARS:
            raise BadRequest(f"pickup_address: 1..{ADDRESS_MAX_CHARS} characters", code="bad_field")
        if len(self.shipping_ref) > 64:
            raise BadRequest("shipping_ref: at most 64 characters", code="bad_field")


async def _replace_active(conn: asyncpg.Connection, case_id: int) -> None:
    old = await conn.fetchrow(
        "UPDATE bookings SET state = 'moved', cancelled_at = now()"
        " WHERE case_id = $1 AND state = 'active' RETURNING slot_id",
        case_id,
    )
    if old is not None and old["slot_id"] is not None:
        await conn.execute(_GIVE, old["slot_id"])


async def _mark_booked(conn: asyncpg.Connection, case_id: int, note: str) -> None:
    await conn.execute("UPDATE cases SET status = 'booked' WHERE id = $1 AND status = 'opened'", case_id)
    await conn.execute(
        "INSERT INTO case_events (case_id, status, note) VALUES ($1, 'booked', $2)", case_id, note
    )


async def book_mail_in(db: Database, case_id: int, mail: MailIn, now: datetime) -> int:
    """Book a courier pickup for the case (replacing its active booking); the booking id."""
    mail.check(now)
    async with db.transaction() as conn:
        await _replace_active(conn, case_id)
        booking_id: int = await conn.fetchval(
            "INSERT INTO bookings (case_id, kind, pickup_from, pickup_until, pickup_address, shipping_ref)"
            " VALUES ($1, 'mail_in', $2, $3, $4, $5) RETURNING id",
            case_id,
            mail.pickup_from,
            mail.pickup_until,
            mail.pickup_address.strip(),
            mail.shipping_ref.strip(),
        )
        await _mark_booked(conn, case_id, "mail-in pickup")
    return booking_id


async def book_slot(db: Database, case_id: int, slot_id: int) -> int:
    """Book `slot_id` for a case (replacing its active booking, if any); the booking id. SlotFull if taken."""
    async with db.transaction() as conn:
        if await conn.fetchval(_TAKE, slot_id) is None:
            if await conn.fetchval("SELECT 1 FROM slots WHERE id = $1", slot_id) is None:
                raise NotFound(f"no slot {slot_id}")
            raise SlotFull(f"slot {slot_id} is fully booked")
        await _replace_active(conn, case_id)
        booking_id: int = await conn.fetchval(
            "INSERT INTO bookings (case_id, kind, slot_id) VALUES ($1, 'centre', $2) RETURNING id",
            case_id,
            slot_id,
        )
        await _mark_booked(conn, case_id, f"slot {slot_id}")
    return booking_id


async def cancel(db: Database, case_id: int) -> None:
    """Cancel the case's active booking and free its place."""
    async with db.transaction() as conn:
        old = await conn.fetchrow(
            "UPDATE bookings SET state = 'cancelled', cancelled_at = now()"
            " WHERE case_id = $1 AND state = 'active' RETURNING slot_id",
            case_id,
        )
        if old is None:
            raise NotFound("the case has no active booking")
        if old["slot_id"] is not None:
            await conn.execute(_GIVE, old["slot_id"])
        await conn.execute("UPDATE cases SET status = 'opened' WHERE id = $1 AND status = 'booked'", case_id)
        await conn.execute(
            "INSERT INTO case_events (case_id, status, note) VALUES ($1, 'opened', 'booking cancelled')",
            case_id,
        )
