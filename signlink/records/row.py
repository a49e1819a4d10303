"""One line per ticket: what the session list, the CSV and every aggregate are computed from (pure).

A row is derived from a TicketRecord; its fields are the `tickets` table's columns (records/store.py),
so the SQL that filters and adds them up (records/sql.py) needs nothing else of the record.

Period and dimensions: a ticket belongs to the hour it joined in, and to the language and topic it
joined with (a transfer keeps the ticket in its first queue's figures: time to answer is measured
to its first answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from signlink.records.ticket import Outcome, TicketRecord


@dataclass(frozen=True)
class SessionLine:
    agent: str
    talk_s: float | None  # None while the call runs
    wrap_s: float | None
    rating: int | None


@dataclass(frozen=True)
class Row:
    id: str  # the ticket id ("u<stream id>" for an unserved request)
    at: float  # joined (or refused) at, epoch seconds
    language: str
    topic: str
    priority_class: str
    outcome: Outcome
    session_id: str | None = None  # the latest session
    agent: str | None = None  # the latest session's agent
    waited_s: float | None = None  # answered: time to answer; abandoned: time waited before leaving
    answer_s: float | None = None
    handle_s: float | None = None  # talk + wrap-up of every ended session
    talk_s: float | None = None
    wrap_s: float | None = None
    check: str = "none"  # passed | failed | continued | none
    failing: tuple[str, ...] = ()
    check_s: float | None = None  # how long the check took
    flagged: bool = False
    reasons: tuple[str, ...] = ()
    rating: int | None = None  # the latest rating
    transfers: int = 0
    abandon_reason: str | None = None
    offers: tuple[tuple[str, str], ...] = ()  # (agent, outcome) of every offer
    sessions: tuple[SessionLine, ...] = ()
    # call quality over all sessions: samples, fps sum/n, rtt sum/n, loss sum/n
    quality: tuple[float, ...] = field(default=(0, 0, 0, 0, 0, 0, 0))

    @property
    def agents(self) -> list[str]:
        return list(dict.fromkeys(s.agent for s in self.sessions))

    @property
    def transferred(self) -> bool:
        return self.transfers > 0

    def dumps(self) -> str:
        raw: dict[str, Any] = {
            "i": self.id,
            "t": self.at,
            "l": self.language,
            "p": self.topic,
            "c": self.priority_class,
            "o": self.outcome.value,
            "s": self.session_id,
            "a": self.agent,
            "w": self.waited_s,
            "n": self.answer_s,
            "h": self.handle_s,
            "k": self.talk_s,
            "u": self.wrap_s,
            "x": self.check,
            "f": list(self.failing) or None,
            "xd": self.check_s,
            "q": 1 if self.flagged else None,
            "r": list(self.reasons) or None,
            "g": self.rating,
            "tr": self.transfers or None,
            "ar": self.abandon_reason,
            "of": [list(o) for o in self.offers] or None,
            "ss": [[s.agent, s.talk_s, s.wrap_s, s.rating] for s in self.sessions] or None,
            "qs": list(self.quality) if self.quality[0] else None,
        }
        return json.dumps({k: v for k, v in raw.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: bytes | str) -> Row:
        d = json.loads(text)
        return cls(
            id=d["i"],
            at=d["t"],
            language=d.get("l", ""),
            topic=d.get("p", ""),
            priority_class=d.get("c", ""),
            outcome=Outcome(d["o"]),
            session_id=d.get("s"),
            agent=d.get("a"),
            waited_s=d.get("w"),
            answer_s=d.get("n"),
            handle_s=d.get("h"),
            talk_s=d.get("k"),
            wrap_s=d.get("u"),
            check=d.get("x", "none"),
            failing=tuple(d.get("f", ())),
            check_s=d.get("xd"),
            flagged=bool(d.get("q")),
            reasons=tuple(d.get("r", ())),
            rating=d.get("g"),
            transfers=d.get("tr", 0),
            abandon_reason=d.get("ar"),
            offers=tuple((a, o) for a, o in d.get("of", ())),
            sessions=tuple(SessionLine(a, k, u, g) for a, k, u, g in d.get("ss", ())),
            quality=tuple(d.get("qs", (0, 0, 0, 0, 0, 0, 0))),
        )

    def to_api(self) -> dict[str, Any]:
        """The session list's JSON row (docs/protocol.md, "QA API")."""
        return {
            "ticket_id": self.id,
            "session_id": self.session_id,
            "joined_at": self.at,
            "language": self.language,
            "topic": self.topic,
            "priority_class": self.priority_class,
            "agent_id": self.agent,
            "outcome": self.outcome.value,
            "transferred": self.transferred,
            "waited_s": self.waited_s,
            "handle_s": self.handle_s,
            "check": self.check,
            "flagged": self.flagged,
            "rating": self.rating,
        }


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def row_of(record: TicketRecord) -> Row | None:
    """The record's row; None until its joined (or unserved) event is known."""
    if record.joined_at is None:
        return None
    sessions = [s for _, s in record.ordered_sessions() if s.agent]
    latest = record.ordered_sessions()[-1] if record.sessions else None
    ended = [s for s in sessions if s.talk_s is not None]
    outcome = record.outcome
    answer = record.answer_s
    waited = answer if outcome is Outcome.ANSWERED else record.abandon_waited_s
    reasons = sorted({r for s in sessions if s.quality for r in s.quality.reasons})
    ratings = [s for s in sessions if s.rating is not None]
    quality = [0.0] * 7
    for s in sessions:
        if s.quality:
            q = s.quality
            for i, v in enumerate((q.samples, q.fps_sum, q.fps_n, q.rtt_sum, q.rtt_n, q.loss_sum, q.loss_n)):
                quality[i] += v
    offers = sorted(record.offers.items(), key=lambda kv: (kv[1].created_at or kv[1].closed_at or 0, kv[0]))
    return Row(
        id=record.id,
        at=record.joined_at,
        language=record.language or "",
        topic=record.topic or "",
        priority_class=record.priority_class or "",
        outcome=outcome,
        session_id=latest[0] if latest else None,
        agent=latest[1].agent if latest else None,
        waited_s=waited,
        answer_s=answer,
        handle_s=_sum([s.handle_s for s in ended]),
        talk_s=_sum([s.talk_s for s in ended]),
        wrap_s=_sum([s.wrap_s for s in ended]),
        check=record.check_status.value,
        failing=tuple(record.check.failing) if record.check else (),
        check_s=record.check.duration_s if record.check and record.check.found else None,
        flagged=bool(reasons),
        reasons=tuple(reasons),
        rating=max(ratings, key=lambda s: s.rated_at or 0).rating if ratings else None,
        transfers=len(record.transfers),
        abandon_reason=record.abandon_reason,
        offers=tuple((o.agent or "", o.outcome.value) for _, o in offers),
        sessions=tuple(SessionLine(s.agent or "", _r3(s.talk_s), _r3(s.wrap_s), s.rating) for s in sessions),
        quality=tuple(round(v, 4) for v in quality),
    )


def _r3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
