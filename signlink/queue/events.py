"""Queue events: what the Lua scripts append to the Redis stream `{prefix}:events`, parsed into one type.

Each stream entry is flat string fields: `type`, `at` (seconds since the epoch, the queue's clock) and
the fields of that type (docs/queue.md lists them). Absent fields are simply not in the entry. Readers
(the web layer pushing offers and positions, the QA records) call `QueueStore.read_events` and get
`QueueEvent`s; nothing else parses the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    TICKET_JOINED = "ticket.joined"
    TICKET_UNSERVED = "ticket.unserved"  # refused at once: no online agent for its language/topic
    TICKET_ABANDONED = "ticket.abandoned"  # reason: left | timeout
    TICKET_TRANSFERRED = "ticket.transferred"
    OFFER_CREATED = "offer.created"
    OFFER_ACCEPTED = "offer.accepted"
    OFFER_DECLINED = "offer.declined"
    OFFER_EXPIRED = "offer.expired"
    OFFER_CANCELLED = "offer.cancelled"  # reason: ticket_left | ticket_timeout | agent_away | agent_offline
    SESSION_ENDED = "session.ended"  # by: agent | customer | system | transfer
    AGENT_STATUS = "agent.status"
    QUEUE_UNSERVED = "queue.unserved"  # the last online agent for a pair with waiting tickets left


def _s(fields: Mapping[str, str], key: str) -> str | None:
    value = fields.get(key)
    return value if value else None


def _f(fields: Mapping[str, str], key: str) -> float | None:
    value = fields.get(key)
    return float(value) if value else None


@dataclass(frozen=True)
class QueueEvent:
    id: str  # the stream entry id: resume reading after it
    type: EventType
    at: float
    ticket_id: str | None = None
    agent_id: str | None = None
    offer_id: str | None = None
    session_id: str | None = None
    language: str | None = None
    topic: str | None = None
    priority_class: str | None = None
    from_language: str | None = None
    from_topic: str | None = None
    verdict_id: str | None = None
    device_model: str | None = None
    device_serial: str | None = None
    status: str | None = None  # agent.status: the new status
    previous: str | None = None  # agent.status: the status before
    reason: str | None = None
    by: str | None = None
    served: tuple[str, ...] = ()  # ticket.unserved: languages served at that moment
    waited_s: float | None = None
    duration_s: float | None = None
    deadline: float | None = None
    missed: int | None = None
    waiting: int | None = None


def parse_event(entry_id: bytes | str, raw: Mapping[bytes, bytes] | Mapping[str, str]) -> QueueEvent:
    """One stream entry as a QueueEvent; ValueError if it is not a queue event."""
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    missed = fields.get("missed")
    waiting = fields.get("waiting")
    return QueueEvent(
        id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        type=EventType(fields["type"]),
        at=float(fields["at"]),
        ticket_id=_s(fields, "ticket"),
        agent_id=_s(fields, "agent"),
        offer_id=_s(fields, "offer"),
        session_id=_s(fields, "session"),
        language=_s(fields, "lang"),
        topic=_s(fields, "topic"),
        priority_class=_s(fields, "cls"),
        from_language=_s(fields, "from_lang"),
        from_topic=_s(fields, "from_topic"),
        verdict_id=_s(fields, "verdict"),
        device_model=_s(fields, "model"),
        device_serial=_s(fields, "serial"),
        status=_s(fields, "status"),
        previous=_s(fields, "previous"),
        reason=_s(fields, "reason"),
        by=_s(fields, "by"),
        served=tuple(x for x in fields.get("served", "").split(",") if x),
        waited_s=_f(fields, "waited"),
        duration_s=_f(fields, "duration"),
        deadline=_f(fields, "deadline"),
        missed=int(missed) if missed else None,
        waiting=int(waiting) if waiting else None,
    )
