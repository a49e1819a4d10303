"""The durable record of one ticket: the facts its queue events state, merged in any order (pure).

A record is built from facts, never from a replayed state machine: each event sets what it says
(the offer o7 was declined at t, the session s3 ended by the customer at t) and setting it again
changes nothing. So an event applied twice, or events of one ticket handled out of order by two
processes, give the same record. Everything QA shows (outcome, waiting time, time to answer, talk,
wrap-up and handle time, the timeline) is derived from the facts when asked.

Metadata only: no chat text, no video. The check's verdict is copied in (verdicts expire on their own
TTL); the agent's notes stay in the session record (records/sessions.py) and are read beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from signlink.queue.events import EventType, QueueEvent
from signlink.records.quality import QualitySummary


class Outcome(StrEnum):
    WAITING = "waiting"  # still in the queue (or on offer)
    ANSWERED = "answered"  # an agent took it (at least once)
    ABANDONED = "abandoned"  # left or timed out before any agent took it
    UNSERVED = "unserved"  # refused at once: no agent online for its language and topic


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    CONTINUED = "continued"  # failed, and the customer continued anyway
    NONE = "none"  # no check (skipped, or its verdict had expired before the ticket was recorded)


class OfferOutcome(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # withdrawn: the customer left or the agent went away (not the agent's miss)


_OFFER_OUTCOMES = {
    EventType.OFFER_ACCEPTED: OfferOutcome.ACCEPTED,
    EventType.OFFER_DECLINED: OfferOutcome.DECLINED,
    EventType.OFFER_EXPIRED: OfferOutcome.TIMED_OUT,
    EventType.OFFER_CANCELLED: OfferOutcome.CANCELLED,
}


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if v is not None and v not in ({}, [])}


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class CheckCopy:
    """What QA needs of the check's verdict, copied when the ticket is recorded."""

    verdict_id: str
    found: bool = True  # False: the id was given but the verdict was unknown or expired
    passed: bool = False
    outcome: str = ""
    created_at: float | None = None
    duration_s: float | None = None
    continued_at: str | None = None
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {status, value}
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> CheckStatus:
        if not self.found:
            return CheckStatus.NONE
        if self.passed:
            return CheckStatus.PASSED
        return CheckStatus.CONTINUED if self.continued_at else CheckStatus.FAILED

    @property
    def failing(self) -> list[str]:
        return sorted(name for name, c in self.criteria.items() if c.get("status") == "fail")

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "verdict_id": self.verdict_id,
                "found": self.found,
                "passed": self.passed,
                "outcome": self.outcome or None,
                "created_at": self.created_at,
                "duration_s": self.duration_s,
                "continued_at": self.continued_at,
                "criteria": self.criteria,
                "metrics": self.metrics,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CheckCopy:
        return cls(
            verdict_id=raw["verdict_id"],
            found=raw.get("found", True),
            passed=raw.get("passed", False),
            outcome=raw.get("outcome", ""),
            created_at=raw.get("created_at"),
            duration_s=raw.get("duration_s"),
            continued_at=raw.get("continued_at"),
            criteria=raw.get("criteria", {}),
            metrics=raw.get("metrics", {}),
        )


@dataclass
class OfferPart:
    agent: str | None = None
    created_at: float | None = None
    outcome: OfferOutcome = OfferOutcome.OPEN
    closed_at: float | None = None
    reason: str | None = None  # why a cancelled offer was withdrawn

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "agent": self.agent,
                "created_at": self.created_at,
                "outcome": self.outcome.value,
                "closed_at": self.closed_at,
                "reason": self.reason,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OfferPart:
        return cls(
            agent=raw.get("agent"),
            created_at=raw.get("created_at"),
            outcome=OfferOutcome(raw.get("outcome", "open")),
            closed_at=raw.get("closed_at"),
            reason=raw.get("reason"),
        )


@dataclass
class SessionPart:
    agent: str | None = None
    accepted_at: float | None = None
    waited_s: float | None = None  # since the ticket (first) joined, at the moment it was accepted
    ended_at: float | None = None
    ended_by: str | None = None
    wrap_outcome: str | None = None
    wrapped_at: float | None = None
    rating: int | None = None
    rated_at: float | None = None
    quality: QualitySummary | None = None

    @property
    def talk_s(self) -> float | None:
        if self.accepted_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.accepted_at)

    @property
    def wrap_s(self) -> float | None:
        if self.ended_at is None or self.wrapped_at is None:
            return None
        return max(0.0, self.wrapped_at - self.ended_at)

    @property
    def handle_s(self) -> float | None:
        """Talk plus wrap-up (the wrap-up counts once it is known)."""
        talk = self.talk_s
        return None if talk is None else talk + (self.wrap_s or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "agent": self.agent,
                "accepted_at": self.accepted_at,
                "waited_s": self.waited_s,
                "ended_at": self.ended_at,
                "ended_by": self.ended_by,
                "wrap_outcome": self.wrap_outcome,
                "wrapped_at": self.wrapped_at,
                "rating": self.rating,
                "rated_at": self.rated_at,
                "quality": self.quality.to_dict() if self.quality else None,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SessionPart:
        quality = raw.get("quality")
        return cls(
            agent=raw.get("agent"),
            accepted_at=raw.get("accepted_at"),
            waited_s=raw.get("waited_s"),
            ended_at=raw.get("ended_at"),
            ended_by=raw.get("ended_by"),
            wrap_outcome=raw.get("wrap_outcome"),
            wrapped_at=raw.get("wrapped_at"),
            rating=raw.get("rating"),
            rated_at=raw.get("rated_at"),
            quality=QualitySummary.from_dict(quality) if isinstance(quality, dict) else None,
        )


@dataclass
class TransferPart:
    at: float
    to_language: str | None = None
    to_topic: str | None = None
    from_language: str | None = None
    from_topic: str | None = None
    agent: str | None = None
    session: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "at": self.at,
                "to_language": self.to_language,
                "to_topic": self.to_topic,
                "from_language": self.from_language,
                "from_topic": self.from_topic,
                "agent": self.agent,
                "session": self.session,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TransferPart:
        return cls(**{k: raw.get(k) for k in cls.__dataclass_fields__ if k in raw})  # type: ignore[arg-type]


@dataclass(frozen=True)
class SessionFacts:
    """What the follow-up learns after a call: the wrap-up and rating (session record), the quality."""

    session_id: str
    wrap_outcome: str | None = None
    wrapped_at: float | None = None
    rating: int | None = None
    rated_at: float | None = None
    quality: QualitySummary | None = None


@dataclass
class TicketRecord:
    id: str
    unserved: bool = False
    joined_at: float | None = None  # None until the ticket.joined event is applied
    language: str | None = None  # as joined (transfers may move it: see current_language)
    topic: str | None = None
    priority_class: str | None = None
    device_model: str | None = None
    served: list[str] = field(default_factory=list)  # unserved: the languages served at that moment
    check: CheckCopy | None = None
    offers: dict[str, OfferPart] = field(default_factory=dict)
    sessions: dict[str, SessionPart] = field(default_factory=dict)
    transfers: dict[str, TransferPart] = field(default_factory=dict)  # by event id
    abandoned_at: float | None = None
    abandon_reason: str | None = None
    abandon_waited_s: float | None = None

    # -- (de)serialising ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "id": self.id,
                "unserved": self.unserved or None,
                "joined_at": self.joined_at,
                "language": self.language,
                "topic": self.topic,
                "priority_class": self.priority_class,
                "device_model": self.device_model,
                "served": self.served,
                "check": self.check.to_dict() if self.check else None,
                "offers": {k: v.to_dict() for k, v in self.offers.items()},
                "sessions": {k: v.to_dict() for k, v in self.sessions.items()},
                "transfers": {k: v.to_dict() for k, v in self.transfers.items()},
                "abandoned_at": self.abandoned_at,
                "abandon_reason": self.abandon_reason,
                "abandon_waited_s": self.abandon_waited_s,
            }
        )

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def loads(cls, raw: bytes | str) -> TicketRecord:
        return cls.loads_dict(json.loads(raw))

    @classmethod
    def loads_dict(cls, d: dict[str, Any]) -> TicketRecord:
        check = d.get("check")
        return cls(
            id=d["id"],
            unserved=d.get("unserved", False),
            joined_at=d.get("joined_at"),
            language=d.get("language"),
            topic=d.get("topic"),
            priority_class=d.get("priority_class"),
            device_model=d.get("device_model"),
            served=d.get("served", []),
            check=CheckCopy.from_dict(check) if check else None,
            offers={k: OfferPart.from_dict(v) for k, v in d.get("offers", {}).items()},
            sessions={k: SessionPart.from_dict(v) for k, v in d.get("sessions", {}).items()},
            transfers={k: TransferPart.from_dict(v) for k, v in d.get("transfers", {}).items()},
            abandoned_at=d.get("abandoned_at"),
            abandon_reason=d.get("abandon_reason"),
            abandon_waited_s=d.get("abandon_waited_s"),
        )

    # -- facts from events ---------------------------------------------------------------------------

    def apply(self, event: QueueEvent) -> None:
        """Set what `event` states about this ticket. Idempotent; order of events does not matter."""
        at = round(event.at, 3)
        kind = event.type
        if kind is EventType.TICKET_JOINED:
            self.joined_at = at
            self.language, self.topic = event.language, event.topic
            self.priority_class, self.device_model = event.priority_class, event.device_model
        elif kind is EventType.TICKET_UNSERVED:
            self.unserved, self.joined_at = True, at
            self.language, self.topic, self.priority_class = event.language, event.topic, event.priority_class
            self.served = list(event.served)
        elif kind is EventType.OFFER_CREATED and event.offer_id:
            offer = self.offers.setdefault(event.offer_id, OfferPart())
            offer.agent, offer.created_at = event.agent_id, at
        elif kind in _OFFER_OUTCOMES and event.offer_id:
            offer = self.offers.setdefault(event.offer_id, OfferPart())
            offer.agent = offer.agent or event.agent_id
            offer.outcome, offer.closed_at = _OFFER_OUTCOMES[kind], at
            offer.reason = event.reason if kind is EventType.OFFER_CANCELLED else None
            if kind is EventType.OFFER_ACCEPTED and event.session_id:
                session = self.sessions.setdefault(event.session_id, SessionPart())
                session.agent, session.accepted_at = event.agent_id, at
                session.waited_s = _r(event.waited_s)
        elif kind is EventType.SESSION_ENDED and event.session_id:
            session = self.sessions.setdefault(event.session_id, SessionPart())
            session.agent = session.agent or event.agent_id
            session.ended_at, session.ended_by = at, event.by
        elif kind is EventType.TICKET_ABANDONED:
            self.abandoned_at, self.abandon_reason = at, event.reason
            self.abandon_waited_s = _r(event.waited_s)
        elif kind is EventType.TICKET_TRANSFERRED:
            self.transfers[event.id] = TransferPart(
                at=at,
                to_language=event.language,
                to_topic=event.topic,
                from_language=event.from_language,
                from_topic=event.from_topic,
                agent=event.agent_id,
                session=event.session_id,
            )

    def apply_session_facts(self, facts: SessionFacts) -> None:
        session = self.sessions.setdefault(facts.session_id, SessionPart())
        session.wrap_outcome = facts.wrap_outcome or session.wrap_outcome
        session.wrapped_at = facts.wrapped_at if facts.wrapped_at is not None else session.wrapped_at
        session.rating = facts.rating if facts.rating is not None else session.rating
        session.rated_at = facts.rated_at if facts.rated_at is not None else session.rated_at
        if facts.quality is not None and facts.quality.samples:
            session.quality = facts.quality

    # -- derived ---------------------------------------------------------------------------------------

    @property
    def outcome(self) -> Outcome:
        if self.unserved:
            return Outcome.UNSERVED
        if any(s.accepted_at is not None for s in self.sessions.values()):
            return Outcome.ANSWERED
        if self.abandoned_at is not None:
            return Outcome.ABANDONED
        return Outcome.WAITING

    def ordered_sessions(self) -> list[tuple[str, SessionPart]]:
        return sorted(self.sessions.items(), key=lambda kv: (kv[1].accepted_at or float("inf"), kv[0]))

    @property
    def answer_s(self) -> float | None:
        """Time to answer: from joining to the first agent taking it."""
        answered = [s for _, s in self.ordered_sessions() if s.accepted_at is not None]
        return answered[0].waited_s if answered else None

    @property
    def current_language(self) -> str | None:
        moves = sorted(self.transfers.values(), key=lambda t: t.at)
        return moves[-1].to_language if moves else self.language

    @property
    def current_topic(self) -> str | None:
        moves = sorted(self.transfers.values(), key=lambda t: t.at)
        return moves[-1].to_topic if moves else self.topic

    @property
    def check_status(self) -> CheckStatus:
        return self.check.status if self.check else CheckStatus.NONE

    def timeline(self) -> list[dict[str, Any]]:
        """Every step with its time, oldest first: `{"at", "event", "detail"}`."""
        steps: list[tuple[float, int, str, dict[str, Any]]] = []

        def add(at: float | None, event: str, **detail: Any) -> None:
            if at is not None:
                steps.append((at, len(steps), event, _clean(detail)))

        if self.check and self.check.found:
            add(
                self.check.created_at,
                "checked",
                status=self.check.status.value,
                failing=self.check.failing,
                duration_s=self.check.duration_s,
            )
        if self.unserved:
            add(self.joined_at, "unserved", language=self.language, topic=self.topic, served=self.served)
        else:
            add(
                self.joined_at,
                "joined",
                language=self.language,
                topic=self.topic,
                priority_class=self.priority_class,
                device_model=self.device_model,
            )
        for offer_id, offer in self.offers.items():
            add(offer.created_at, "offered", offer_id=offer_id, agent_id=offer.agent)
            if offer.outcome is not OfferOutcome.OPEN:
                add(
                    offer.closed_at,
                    f"offer_{offer.outcome.value}",
                    offer_id=offer_id,
                    agent_id=offer.agent,
                    reason=offer.reason,
                )
        for session_id, s in self.sessions.items():
            add(s.accepted_at, "connected", session_id=session_id, agent_id=s.agent, waited_s=s.waited_s)
            add(s.ended_at, "ended", session_id=session_id, by=s.ended_by, talk_s=_r(s.talk_s, 1))
            add(
                s.wrapped_at,
                "wrapped_up",
                session_id=session_id,
                outcome=s.wrap_outcome,
                wrap_s=_r(s.wrap_s, 1),
            )
            add(s.rated_at, "rated", session_id=session_id, rating=s.rating)
        for t in self.transfers.values():
            add(
                t.at,
                "transferred",
                session_id=t.session,
                agent_id=t.agent,
                from_language=t.from_language,
                from_topic=t.from_topic,
                to_language=t.to_language,
                to_topic=t.to_topic,
            )
        add(self.abandoned_at, "abandoned", reason=self.abandon_reason, waited_s=self.abandon_waited_s)
        steps.sort(key=lambda s: (s[0], s[1]))
        return [{"at": at, "event": event, "detail": detail} for at, _, event, detail in steps]
