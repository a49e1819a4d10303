"""The call's WebSocket protocol, server to client: one dataclass per message, `encode` to the wire.

docs/protocol.md ("WebSocket /ws") lists each message; the field names here are the wire's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from signlink.ice import IceServer
from signlink.queue.models import QueueSnapshot


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class TicketInfo:
    id: str
    language: str
    topic: str
    priority_class: str
    waited_s: float
    device_model: str | None
    device_serial: str | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "topic": self.topic,
            "priority_class": self.priority_class,
            "waited_s": _round(self.waited_s),
            "device_model": self.device_model,
            "device_serial": self.device_serial,
        }


@dataclass(frozen=True)
class FailingCriterion:
    criterion: str
    message: Mapping[str, str]  # {"en": ..., "zh-CN": ...}


@dataclass(frozen=True)
class CheckSummary:
    verdict_id: str
    passed: bool
    continued_despite_failure: bool
    failing: tuple[FailingCriterion, ...]
    # Set when the waiting room kept watching: passed/failing are then that latest state.
    measured_epoch: float | None = None
    measured_age_s: float | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "verdict_id": self.verdict_id,
            "passed": self.passed,
            "continued_despite_failure": self.continued_despite_failure,
            "failing": [{"criterion": f.criterion, "message": dict(f.message)} for f in self.failing],
            "measured_epoch": self.measured_epoch,
            "measured_age_s": _round(self.measured_age_s),
        }


@dataclass(frozen=True)
class OfferInfo:
    offer_id: str
    deadline_ms: int
    timeout_s: float
    ticket: TicketInfo
    check: CheckSummary | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "offer_id": self.offer_id,
            "deadline_ms": self.deadline_ms,
            "timeout_s": self.timeout_s,
            "ticket": self.ticket.to_wire(),
            "check": self.check.to_wire() if self.check else None,
        }


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    role: str  # "offerer" (the agent) | "answerer" (the customer)
    peer_name: str
    peer_connected: bool
    ice_servers: tuple[IceServer, ...]
    ticket: TicketInfo

    def to_wire(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "role": self.role,
            "peer": {"name": self.peer_name, "connected": self.peer_connected},
            "ice_servers": [s.to_wire() for s in self.ice_servers],
            "ticket": self.ticket.to_wire(),
        }


@dataclass(frozen=True)
class AgentInfo:
    id: str
    name: str
    status: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    missed: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "languages": list(self.languages),
            "topics": list(self.topics),
            "missed": self.missed,
        }


class ServerMessage:
    type: ClassVar[str]

    def fields(self) -> dict[str, Any]:
        return {}

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, **self.fields()}


def encode(message: ServerMessage) -> str:
    return json.dumps(message.to_wire(), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class CustomerWelcome(ServerMessage):
    type: ClassVar[str] = "welcome"
    ticket_id: str
    state: str  # waiting | in_call | ended | abandoned (an offer is invisible: still "waiting")
    position: int | None = None
    estimated_wait_s: float | None = None
    session: SessionInfo | None = None

    def fields(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "ticket_id": self.ticket_id,
            "state": self.state,
            "position": self.position,
            "estimated_wait_s": _round(self.estimated_wait_s, 0),
        }
        if self.session is not None:
            state["session"] = self.session.to_wire()
        return {"role": "customer", "state": state}


@dataclass(frozen=True)
class AgentWelcome(ServerMessage):
    type: ClassVar[str] = "welcome"
    agent: AgentInfo
    ice_servers: tuple[IceServer, ...]
    offer: OfferInfo | None = None
    session: SessionInfo | None = None
    wrap_up_session_id: str | None = None  # status wrap_up: the session still to wrap up

    def fields(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "agent": self.agent.to_wire(),
            "ice_servers": [s.to_wire() for s in self.ice_servers],
        }
        if self.offer is not None:
            state["offer"] = self.offer.to_wire()
        if self.session is not None:
            state["session"] = self.session.to_wire()
        if self.wrap_up_session_id is not None:
            state["wrap_up"] = {"session_id": self.wrap_up_session_id}
        return {"role": "agent", "state": state}


@dataclass(frozen=True)
class Pong(ServerMessage):
    type: ClassVar[str] = "pong"


@dataclass(frozen=True)
class QueueUpdate(ServerMessage):
    type: ClassVar[str] = "queue"
    position: int | None
    estimated_wait_s: float | None
    waiting_ahead: int | None

    def fields(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "estimated_wait_s": _round(self.estimated_wait_s, 0),
            "waiting_ahead": self.waiting_ahead,
        }


@dataclass(frozen=True)
class Offer(ServerMessage):
    type: ClassVar[str] = "offer"
    offer: OfferInfo

    def fields(self) -> dict[str, Any]:
        return self.offer.to_wire()


@dataclass(frozen=True)
class OfferEnded(ServerMessage):
    type: ClassVar[str] = "offer_ended"
    offer_id: str
    reason: str  # timed_out | declined | withdrawn | accepted

    def fields(self) -> dict[str, Any]:
        return {"offer_id": self.offer_id, "reason": self.reason}


@dataclass(frozen=True)
class AgentStatusChanged(ServerMessage):
    type: ClassVar[str] = "agent"
    status: str
    missed: int
    reason: str | None = None
    previous: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "missed": self.missed,
            "reason": self.reason,
            "previous": self.previous,
        }


@dataclass(frozen=True)
class Snapshot(ServerMessage):
    type: ClassVar[str] = "queue_snapshot"
    snapshot: QueueSnapshot

    def fields(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "at": round(s.at, 3),
            "waiting": s.waiting,
            "longest_wait_s": _round(s.longest_wait_s),
            "lines": [
                {
                    "language": line.language,
                    "topic": line.topic,
                    "waiting": line.waiting,
                    "offered": line.offered,
                    "longest_wait_s": _round(line.longest_wait_s),
                    "online_agents": line.online_agents,
                    "serving_agents": line.serving_agents,
                }
                for line in s.lines
            ],
            "agents": {status.value: count for status, count in s.agents.items()},
        }


@dataclass(frozen=True)
class SessionStarted(ServerMessage):
    type: ClassVar[str] = "session"
    session: SessionInfo

    def fields(self) -> dict[str, Any]:
        return self.session.to_wire()


@dataclass(frozen=True)
class Peer(ServerMessage):
    type: ClassVar[str] = "peer"
    state: str  # disconnected | rejoined
    pc: str  # the other side's RTCPeerConnection: new | live

    def fields(self) -> dict[str, Any]:
        return {"state": self.state, "pc": self.pc}


@dataclass(frozen=True)
class SignalRelay(ServerMessage):
    type: ClassVar[str] = "signal"
    data: Mapping[str, Any]

    def fields(self) -> dict[str, Any]:
        return {"data": self.data}


@dataclass(frozen=True)
class ChatRelay(ServerMessage):
    type: ClassVar[str] = "chat"
    id: str
    text: str

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text}


@dataclass(frozen=True)
class ChatAck(ServerMessage):
    type: ClassVar[str] = "chat_ack"
    id: str

    def fields(self) -> dict[str, Any]:
        return {"id": self.id}


@dataclass(frozen=True)
class ChatFailed(ServerMessage):
    type: ClassVar[str] = "chat_failed"
    id: str
    reason: str

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class Ended(ServerMessage):
    type: ClassVar[str] = "ended"
    session_id: str
    by: str  # agent | customer | system | transfer (agents only)

    def fields(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "by": self.by}


@dataclass(frozen=True)
class Transferred(ServerMessage):
    type: ClassVar[str] = "transferred"
    language: str
    topic: str
    position: int | None
    estimated_wait_s: float | None

    def fields(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "topic": self.topic,
            "position": self.position,
            "estimated_wait_s": _round(self.estimated_wait_s, 0),
        }


@dataclass(frozen=True)
class Left(ServerMessage):
    type: ClassVar[str] = "left"
    ticket_id: str
    reason: str  # left | timeout

    def fields(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "reason": self.reason}


@dataclass(frozen=True)
class Saved(ServerMessage):
    """A wrap-up or a private note is stored."""

    type: ClassVar[str] = "saved"
    what: str  # wrap_up | note
    session_id: str

    def fields(self) -> dict[str, Any]:
        return {"what": self.what, "session_id": self.session_id}


@dataclass(frozen=True)
class Error(ServerMessage):
    type: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.ref is not None:
            out["ref"] = self.ref
        return out
