"""Service cases: open one from a ticket (a short number, an unguessable customer token), link a repeat
contact by the same serial within 7 days to the earlier case, and read a case back."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from signlink.db.database import Database
from signlink.errors import BadRequest

OUTCOMES = ("solved", "centre", "mail_in", "home_visit", "follow_up")
REPEAT_WINDOW_DAYS = 7
DESCRIPTION_MAX_CHARS = 2000
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,}")
_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or typed without doubt


def new_number() -> str:
    return "C-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class NewCase:
    ticket_id: str
    category: str
    outcome: str
    agent: str = ""
    device_model: str = ""
    serial: str = ""
    topic: str = ""
    verdict_id: str = ""
    description: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise BadRequest(f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_field")
        if not self.ticket_id or not self.category:
            raise BadRequest("ticket_id and category are required", code="bad_field")
        if len(self.description) > DESCRIPTION_MAX_CHARS:
            raise BadRequest(f"description is over {DESCRIPTION_MAX_CHARS} characters", code="bad_field")
        if self.email and not _EMAIL.fullmatch(self.email):
            raise BadRequest("email is not an e-mail address", code="bad_field")


@dataclass(frozen=True)
class Opened:
    id: int
    number: str
    token: str  # 256 bits from secrets: the customer's case-page link
    repeat_of: int | None


async def open_case(db: Database, new: NewCase, categories: tuple[str, ...]) -> Opened:
    if new.category not in categories:
        raise BadRequest(f"category must be one of {', '.join(categories)}", code="bad_field")
    token = secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        repeat_of = None
        if new.serial:
            repeat_of = await conn.fetchval(
                "SELECT coalesce(repeat_of, id) FROM cases WHERE serial = $1"
                " AND opened_at > now() - make_interval(days => $2) ORDER BY opened_at DESC LIMIT 1",
                new.serial,
                REPEAT_WINDOW_DAYS,
            )
        for _ in range(5):  # a clash of the 6-character number is rare; draw again
            number = new_number()
            row = await conn.fetchrow(
                "INSERT INTO cases (number, token, ticket_id, agent, device_model, serial, topic,"
                " category, description, outcome, repeat_of, verdict_id, email)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
                " ON CONFLICT (number) DO NOTHING RETURNING id",
                number,
                token,
                new.ticket_id,
                new.agent,
                new.device_model,
                new.serial,
                new.topic,
                new.category,
                new.description,
                new.outcome,
                repeat_of,
                new.verdict_id,
                new.email,
            )
            if row is not None:
                break
        else:
            raise RuntimeError("could not draw a free case number")
        case_id: int = row["id"]
        await conn.execute(
            "INSERT INTO case_tickets (case_id, ticket_id) VALUES ($1, $2)", case_id, new.ticket_id
        )
        if repeat_of is not None:
            await conn.execute(
                "INSERT INTO case_tickets (case_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                repeat_of,
                new.ticket_id,
            )
        await conn.execute("INSERT INTO case_events (case_id, status) VALUES ($1, 'opened')", case_id)
    return Opened(case_id, number, token, repeat_of)
