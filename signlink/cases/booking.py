"""Slots and bookings: capacity is taken by one conditional UPDATE, so the last place of a slot goes to
exactly one booking however many processes ask at once; cancelling gives it back."""

from __future__ import annotations

from signlink.db.database import Database
from signlink.errors import Conflict, NotFound

_TAKE = "UPDATE slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity RETURNING id"
_GIVE = "UPDATE slots SET booked = booked - 1 WHERE id = $1 AND booked > 0"


class SlotFull(Conflict):
    code = "slot_full"


async def book_slot(db: Database, case_id: int, slot_id: int) -> int:
    """Book `slot_id` for a case (replacing its active booking, if any); the booking id. SlotFull if taken."""
    async with db.transaction() as conn:
        if await conn.fetchval(_TAKE, slot_id) is None:
            if await conn.fetchval("SELECT 1 FROM slots WHERE id = $1", slot_id) is None:
                raise NotFound(f"no slot {slot_id}")
            raise SlotFull(f"slot {slot_id} is fully booked")
        old = await conn.fetchrow(
            "UPDATE bookings SET state = 'moved', cancelled_at = now()"
            " WHERE case_id = $1 AND state = 'active' RETURNING slot_id",
            case_id,
        )
        if old is not None and old["slot_id"] is not None:
            await conn.execute(_GIVE, old["slot_id"])
        booking_id: int = await conn.fetchval(
            "INSERT INTO bookings (case_id, kind, slot_id) VALUES ($1, 'centre', $2) RETURNING id",
            case_id,
            slot_id,
        )
        await conn.execute("UPDATE cases SET status = 'booked' WHERE id = $1 AND status = 'opened'", case_id)
        await conn.execute("INSERT INTO case_events (case_id, status) VALUES ($1, 'booked')", case_id)
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
