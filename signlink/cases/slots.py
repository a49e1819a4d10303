"""Bookable slots made from each centre's opening hours, in its own time zone: one INSERT over every
centre, idempotent (a slot that exists is left alone, with its bookings). Drop-off points take parcels
during their hours and have no slots."""

from __future__ import annotations

from signlink.db.database import Database

SLOT_MINUTES = 60
DAYS_AHEAD = 14

_MAKE = """
INSERT INTO slots (centre_code, starts_at, ends_at, capacity)
SELECT c.code, s, s + make_interval(mins => $2), c.capacity_per_slot
FROM centres c
CROSS JOIN generate_series(0, $1 - 1) AS d(n)
CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE c.tz)::date + d.n AS day) AS dd
CROSS JOIN LATERAL jsonb_array_elements(
    c.hours -> (ARRAY['mon','tue','wed','thu','fri','sat','sun'])[extract(isodow FROM dd.day)::int]
) AS span
CROSS JOIN LATERAL generate_series(
    (dd.day + (span ->> 0)::time) AT TIME ZONE c.tz,
    (dd.day + (span ->> 1)::time) AT TIME ZONE c.tz - make_interval(mins => $2),
    make_interval(mins => $2)
) AS s
WHERE c.kind = 'centre' AND c.capacity_per_slot > 0 AND s > now()
ON CONFLICT (centre_code, starts_at) DO NOTHING
"""


async def ensure(db: Database, days: int = DAYS_AHEAD) -> int:
    """Make the missing slots of the next `days` days; how many were made."""
    async with db.connection() as conn:
        status = await conn.execute(_MAKE, days, SLOT_MINUTES)
    return int(status.rsplit(" ", 1)[1])
