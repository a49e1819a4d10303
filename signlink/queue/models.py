"""What the queue is made of: tickets, agents, offers, sessions and their state machines.

The Lua scripts (signlink/queue/lua/) are where the transitions happen; the tables below are the
documented contract they follow, and the audit and tests check the scripts against them.
Records come back from Redis as JSON objects; `from_record` is the one place that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TicketState(StrEnum):
    WAITING = "waiting"  # in its skill queue
    OFFERED = "offered"  # out of the queue, offered to one agent, place kept
    IN_CALL = "in_call"  # accepted: a session exists
    ENDED = "ended"  # the session ended
    ABANDONED = "abandoned"  # left, or silent longer than the heartbeat grace


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    ON_OFFER = "on_offer"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    AWAY = "away"


class EndedBy(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"


# WAITING -> WAITING is a transfer to another skill queue; IN_CALL -> WAITING is a transfer from a call.
TICKET_TRANSITIONS: Mapping[TicketState, frozenset[TicketState]] = {
    TicketState.WAITING: frozenset({TicketState.WAITING, TicketState.OFFERED, TicketState.ABANDONED}),
    TicketState.OFFERED: frozenset({TicketState.WAITING, TicketState.IN_CALL, TicketState.ABANDONED}),
    TicketState.IN_CALL: frozenset({TicketState.ENDED, TicketState.WAITING}),
    TicketState.ENDED: frozenset(),
    TicketState.ABANDONED: frozenset(),
}

_S = AgentStatus
AGENT_TRANSITIONS: Mapping[AgentStatus, frozenset[AgentStatus]] = {
    _S.OFFLINE: frozenset({_S.AWAY, _S.AVAILABLE}),
    _S.AVAILABLE: frozenset({_S.ON_OFFER, _S.AWAY, _S.OFFLINE}),
    _S.ON_OFFER: frozenset({_S.IN_CALL, _S.AVAILABLE, _S.AWAY, _S.OFFLINE}),
    _S.IN_CALL: frozenset({_S.WRAP_UP}),
    _S.WRAP_UP: frozenset({_S.AVAILABLE, _S.AWAY, _S.OFFLINE}),
    _S.AWAY: frozenset({_S.AVAILABLE, _S.OFFLINE}),
}

ACTIVE_TICKET_STATES = frozenset({TicketState.WAITING, TicketState.OFFERED, TicketState.IN_CALL})
ONLINE_STATUSES = frozenset(s for s in AgentStatus if s is not AgentStatus.OFFLINE)
# Agents who take work now or soon: the estimator's servers. Away agents are online but not serving.
SERVING_STATUSES = ONLINE_STATUSES - {AgentStatus.AWAY}


def _str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key, "")
    return value if isinstance(value, str) else str(value)


def _opt(record: Mapping[str, Any], key: str) -> str | None:
    return _str(record, key) or None


def _num(record: Mapping[str, Any], key: str) -> float:
    value = record.get(key, 0)
    return float(value) if value not in ("", None) else 0.0


def _csv(value: Any) -> tuple[str, ...]:
    return tuple(item for item in str(value or "").split(",") if item)


@dataclass(frozen=True)
class Ticket:
    id: str
    state: TicketState
    language: str
    topic: str
    priority_class: str
    verdict_id: str | None
    device_model: str | None
    device_serial: str | None
    joined_at: float  # effective join time: keeps waited time across transfers
    first_joined_at: float  # when the customer first joined
    offer_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    offers: int = 0  # how many offers this ticket has had
    accepted_at: float | None = None
    finished_at: float | None = None  # ended or abandoned
    finish_reason: str | None = None

    def waited_s(self, now: float) -> float:
        """Time spent waiting so far (up to acceptance or abandonment)."""
        until = self.accepted_at or self.finished_at or now
        return max(0.0, until - self.joined_at)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Ticket:
        return cls(
            id=_str(record, "id"),
            state=TicketState(_str(record, "state")),
            language=_str(record, "lang"),
            topic=_str(record, "topic"),
            priority_class=_str(record, "cls"),
            verdict_id=_opt(record, "verdict"),
            device_model=_opt(record, "model"),
            device_serial=_opt(record, "serial"),
            joined_at=_num(record, "joined"),
            first_joined_at=_num(record, "first_joined"),
            offer_id=_opt(record, "offer"),
            agent_id=_opt(record, "agent"),
            session_id=_opt(record, "session"),
            offers=int(_num(record, "offers")),
            accepted_at=_num(record, "accepted") or None,
            finished_at=_num(record, "finished") or None,
            finish_reason=_opt(record, "reason"),
        )


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    status: AgentStatus
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    available_since: float | None  # the idle clock: longest idle is offered first
    missed: int  # consecutive missed offers
    offer_id: str | None = None
    ticket_id: str | None = None
    session_id: str | None = None
    retry_at: float | None = None  # after a missed offer: no new offer before this

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Agent:
        status = AgentStatus(_str(record, "status"))
        return cls(
            id=_str(record, "id"),
            name=_str(record, "name"),
            status=status,
            languages=_csv(record.get("langs")),
            topics=_csv(record.get("topics")),
            available_since=_num(record, "since") if status is AgentStatus.AVAILABLE else None,
            missed=int(_num(record, "missed")),
            offer_id=_opt(record, "offer"),
            ticket_id=_opt(record, "ticket"),
            session_id=_opt(record, "session"),
            retry_at=_num(record, "retry") or None,
        )


@dataclass(frozen=True)
class Offer:
    id: str
    ticket_id: str
    agent_id: str
    created_at: float
    deadline: float

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Offer:
        return cls(
            id=_str(record, "id"),
            ticket_id=_str(record, "ticket"),
            agent_id=_str(record, "agent"),
            created_at=_num(record, "created"),
            deadline=_num(record, "deadline"),
        )


@dataclass(frozen=True)
class Session:
    """An accepted offer: one customer (ticket) and one agent, until end_session."""

    id: str
    ticket_id: str
    agent_id: str
    started_at: float
    waited_s: float


@dataclass(frozen=True)
class JoinRequest:
    """A customer asking to join. Validated against the settings by `validation.check_join`."""

    customer_token: str  # unguessable, from the web layer; stored only as a hash
    language: str
    topic: str
    priority_class: str
    verdict_id: str | None = None
    device_model: str | None = None
    device_serial: str | None = None


@dataclass(frozen=True)
class Placed:
    """A ticket after a change that may have routed it; `offer` is set when it went to an agent at once."""

    ticket: Ticket
    offer: Offer | None = None


@dataclass(frozen=True)
class AgentUpdate:
    """An agent after a change that may have routed them; `offer` is set when they got work at once."""

    agent: Agent
    offer: Offer | None = None


@dataclass(frozen=True)
class Position:
    ticket_id: str
    state: TicketState
    position: int | None  # 1 = next in its own skill queue; None unless waiting
    ahead_effective: float  # tickets ahead across queues that share its agents, weighted by overlap
    serving_agents: int  # online agents (not away) who can take this ticket
    estimated_wait_s: float | None  # None: no agent who can serve it is working now
    at: float


@dataclass(frozen=True)
class QueueLine:
    language: str
    topic: str
    waiting: int
    offered: int
    longest_wait_s: float
    online_agents: int
    serving_agents: int  # online and not away: able to serve it
    in_call_agents: int = 0  # in a call with one of its customers now


@dataclass(frozen=True)
class QueueSnapshot:
    at: float
    lines: tuple[QueueLine, ...]
    agents: Mapping[AgentStatus, int]
    waiting: int = field(init=False)
    longest_wait_s: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "waiting", sum(line.waiting for line in self.lines))
        object.__setattr__(self, "longest_wait_s", max((ln.longest_wait_s for ln in self.lines), default=0.0))

    def by_language(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in self.lines:
            counts[line.language] = counts.get(line.language, 0) + line.waiting
        return counts


@dataclass(frozen=True)
class SweepResult:
    expired_offers: int = 0
    abandoned: int = 0
    agents_logged_out: int = 0
    retried_agents: int = 0
    purged: int = 0
    more: bool = False  # a batch limit was hit: sweep again now
