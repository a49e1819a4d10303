"""The call's WebSocket protocol, client to server: typed messages, one pure parse function, close codes.

Every text frame is one JSON object with a "type". `parse` turns it into one of the dataclasses below or
raises ProtocolError with a stable `code`; nothing past this module sees the raw JSON. Which role may send
what is `allowed(role, message)`. docs/protocol.md ("WebSocket /ws") documents every field and code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

from signlink import ids, jsonedge
from signlink.errors import SignlinkError

MAX_MESSAGE_BYTES = 64 * 1024  # the default of settings.ws_max_message_bytes
CHAT_MAX_CHARS = 2000
NOTE_MAX_CHARS = 4000
WRAP_NOTES_MAX_CHARS = 4000
SDP_MAX_CHARS = 48 * 1024
CANDIDATE_MAX_CHARS = 1024
_ID = ids.ID  # the queue's id alphabet (tickets, offers, sessions)
_CHAT_ID = ids.CLIENT_ID  # a client-made uuid
_TOKEN = ids.TOKEN
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines and tabs are fine in text


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down: reconnect (to any process)
    POLICY = 1008  # kept sending faster than the rate limit
    TOO_BIG = 1009  # a frame over the size limit
    BAD_HELLO = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    UNKNOWN = 4404  # unknown ticket token
    REPLACED = 4409  # a newer connection of the same party took over


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class PcState(StrEnum):
    """Does the page still hold a live RTCPeerConnection for its call?"""

    NEW = "new"
    LIVE = "live"


class AgentChoice(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    REPAIR_BOOKED = "repair_booked"
    TRANSFERRED = "transferred"
    DROPPED = "dropped"
    OTHER = "other"


class SdpType(StrEnum):
    OFFER = "offer"
    ANSWER = "answer"
    PRANSWER = "pranswer"
    ROLLBACK = "rollback"


class ProtocolError(SignlinkError):
    """A message the server cannot take. `close` set: the connection ends with that code."""

    def __init__(
        self, code: str, message: str, *, close: CloseCode | None = None, ref: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.close = close
        self.ref = ref  # the type of the message it answers, when known


# Messages


@dataclass(frozen=True)
class Hello:
    type: ClassVar[str] = "hello"
    role: Role
    pc: PcState
    token: str | None = None  # customers only


@dataclass(frozen=True)
class Ping:
    type: ClassVar[str] = "ping"


@dataclass(frozen=True)
class SetStatus:
    type: ClassVar[str] = "status"
    status: AgentChoice


@dataclass(frozen=True)
class Accept:
    type: ClassVar[str] = "accept"
    offer_id: str


@dataclass(frozen=True)
class Decline:
    type: ClassVar[str] = "decline"
    offer_id: str


@dataclass(frozen=True)
class SessionDescription:
    type: SdpType
    sdp: str

    def to_wire(self) -> dict[str, Any]:
        return {"sdp": {"type": self.type.value, "sdp": self.sdp}}


@dataclass(frozen=True)
class IceCandidate:
    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    username_fragment: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"candidate": self.candidate, "sdpMid": self.sdp_mid}
        out["sdpMLineIndex"] = self.sdp_mline_index
        if self.username_fragment is not None:
            out["usernameFragment"] = self.username_fragment
        return out


@dataclass(frozen=True)
class CandidateSignal:
    candidate: IceCandidate | None  # None: end of candidates

    def to_wire(self) -> dict[str, Any]:
        return {"candidate": self.candidate.to_wire() if self.candidate else None}


@dataclass(frozen=True)
class Signal:
    type: ClassVar[str] = "signal"
    data: SessionDescription | CandidateSignal
    session_id: str | None = None  # optional: refused unless it is the sender's session


@dataclass(frozen=True)
class Chat:
    type: ClassVar[str] = "chat"
    id: str
    text: str
    session_id: str | None = None


@dataclass(frozen=True)
class ChatAck:
    type: ClassVar[str] = "chat_ack"
    id: str
    session_id: str | None = None


@dataclass(frozen=True)
class Typing:
    """The sender is (or stopped) writing a chat message: relayed to the peer, never stored."""

    type: ClassVar[str] = "typing"
    active: bool
    session_id: str | None = None


@dataclass(frozen=True)
class End:
    type: ClassVar[str] = "end"
    session_id: str | None = None


@dataclass(frozen=True)
class WrapUp:
    type: ClassVar[str] = "wrap_up"
    session_id: str
    outcome: Outcome
    notes: str
    next: AgentChoice = AgentChoice.AVAILABLE


@dataclass(frozen=True)
class Transfer:
    type: ClassVar[str] = "transfer"
    language: str
    topic: str


@dataclass(frozen=True)
class Note:
    type: ClassVar[str] = "note"
    session_id: str
    text: str


@dataclass(frozen=True)
class Leave:
    type: ClassVar[str] = "leave"


@dataclass(frozen=True)
class Stats:
    """Call quality: what the sender received over the last ~10 s (signlink/records/quality.py)."""

    type: ClassVar[str] = "stats"
    session_id: str | None = None
    rtt_ms: float | None = None
    packet_loss: float | None = None  # 0..1
    jitter_ms: float | None = None
    jitter_buffer_ms: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    freezes: int | None = None


ClientMessage = (
    Hello
    | Ping
    | SetStatus
    | Accept
    | Decline
    | Signal
    | Chat
    | ChatAck
    | Typing
    | End
    | WrapUp
    | Transfer
    | Note
    | Leave
    | Stats
)

AGENT_ONLY: tuple[type, ...] = (SetStatus, Accept, Decline, WrapUp, Transfer, Note)
CUSTOMER_ONLY: tuple[type, ...] = (Leave,)


def allowed(role: Role, message: ClientMessage) -> bool:
    if isinstance(message, AGENT_ONLY):
        return role is Role.AGENT
    if isinstance(message, CUSTOMER_ONLY):
        return role is Role.CUSTOMER
    return True


# Parsing


def _bad(message: str) -> ProtocolError:
    return ProtocolError("bad_field", message)


def _str(raw: dict[str, Any], name: str, *, limit: int, pattern: re.Pattern[str] | None = None) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    if len(value) > limit:
        raise ProtocolError("too_long", f"{name} is longer than {limit} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise _bad(f"{name} has the wrong format")
    if _CONTROL.search(value):
        raise _bad(f"{name} contains control characters")
    return value


def _text(raw: dict[str, Any], name: str, *, limit: int, required: bool = True) -> str:
    if not required and raw.get(name) is None:
        return ""
    value = _str(raw, name, limit=limit)
    if _CONTROL.search(value):
        raise _bad(f"{name} contains control characters")
    return value


def _bool(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name)
    if not isinstance(value, bool):
        raise _bad(f"{name} must be true or false")
    return value


def _opt_id(raw: dict[str, Any], name: str) -> str | None:
    return None if raw.get(name) is None else _str(raw, name, limit=64, pattern=_ID)


def _enum(raw: dict[str, Any], name: str, kind: type[StrEnum], default: StrEnum | None = None) -> Any:
    value = raw.get(name)
    if value is None and default is not None:
        return default
    try:
        return kind(value if isinstance(value, str) else "")
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise _bad(f"{name} must be one of {choices}") from None


def _hello(raw: dict[str, Any]) -> Hello:
    role = _enum(raw, "role", Role)
    pc = _enum(raw, "pc", PcState, PcState.NEW)
    token = _str(raw, "token", limit=128, pattern=_TOKEN) if role is Role.CUSTOMER else None
    return Hello(role=role, pc=pc, token=token)


def _signal(raw: dict[str, Any]) -> Signal:
    data = raw.get("data")
    if not isinstance(data, dict):
        raise _bad("data must be an object with sdp or candidate")
    session_id = _opt_id(raw, "session_id")
    if "sdp" in data:
        sdp = data["sdp"]
        if not isinstance(sdp, dict):
            raise _bad("data.sdp must be an object {type, sdp}")
        kind = _enum(sdp, "type", SdpType)
        text = (
            ""
            if kind is SdpType.ROLLBACK and sdp.get("sdp") is None
            else _str(sdp, "sdp", limit=SDP_MAX_CHARS)
        )
        return Signal(SessionDescription(kind, text), session_id)
    if "candidate" in data:
        cand = data["candidate"]
        if cand is None:
            return Signal(CandidateSignal(None), session_id)
        if not isinstance(cand, dict):
            raise _bad("data.candidate must be an object or null")
        mline = cand.get("sdpMLineIndex")
        if mline is not None and (
            not isinstance(mline, int) or isinstance(mline, bool) or not 0 <= mline < 256
        ):
            raise _bad("sdpMLineIndex must be a small integer or null")
        mid = None if cand.get("sdpMid") is None else _str(cand, "sdpMid", limit=64)
        ufrag = None if cand.get("usernameFragment") is None else _str(cand, "usernameFragment", limit=256)
        text = _str(cand, "candidate", limit=CANDIDATE_MAX_CHARS)
        return Signal(CandidateSignal(IceCandidate(text, mid, mline, ufrag)), session_id)
    raise _bad("data must have sdp or candidate")


def _number(raw: dict[str, Any], name: str, high: float, *, whole: bool = False) -> Any:
    value = raw.get(name)
    if value is None:
        return None
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value <= high:
        raise _bad(f"{name} must be {'a whole number' if whole else 'a number'} from 0 to {high:g}, or null")
    return value


def _stats(raw: dict[str, Any]) -> Stats:
    return Stats(
        session_id=_opt_id(raw, "session_id"),
        rtt_ms=_number(raw, "rtt_ms", 60_000),
        packet_loss=_number(raw, "packet_loss", 1),
        jitter_ms=_number(raw, "jitter_ms", 60_000),
        jitter_buffer_ms=_number(raw, "jitter_buffer_ms", 60_000),
        fps=_number(raw, "fps", 240),
        width=_number(raw, "width", 16_384, whole=True),
        height=_number(raw, "height", 16_384, whole=True),
        freezes=_number(raw, "freezes", 100_000, whole=True),
    )


def _wrap_up(raw: dict[str, Any]) -> WrapUp:
    return WrapUp(
        session_id=_str(raw, "session_id", limit=64, pattern=_ID),
        outcome=_enum(raw, "outcome", Outcome),
        notes=_text(raw, "notes", limit=WRAP_NOTES_MAX_CHARS, required=False),
        next=_enum(raw, "next", AgentChoice, AgentChoice.AVAILABLE),
    )


_PARSERS: dict[str, Any] = {
    Hello.type: _hello,
    Ping.type: lambda raw: Ping(),
    SetStatus.type: lambda raw: SetStatus(_enum(raw, "status", AgentChoice)),
    Accept.type: lambda raw: Accept(_str(raw, "offer_id", limit=64, pattern=_ID)),
    Decline.type: lambda raw: Decline(_str(raw, "offer_id", limit=64, pattern=_ID)),
    Signal.type: _signal,
    Chat.type: lambda raw: Chat(
        _str(raw, "id", limit=64, pattern=_CHAT_ID),
        _text(raw, "text", limit=CHAT_MAX_CHARS),
        _opt_id(raw, "session_id"),
    ),
    ChatAck.type: lambda raw: ChatAck(
        _str(raw, "id", limit=64, pattern=_CHAT_ID), _opt_id(raw, "session_id")
    ),
    Typing.type: lambda raw: Typing(_bool(raw, "active"), _opt_id(raw, "session_id")),
    End.type: lambda raw: End(_opt_id(raw, "session_id")),
    WrapUp.type: _wrap_up,
    Transfer.type: lambda raw: Transfer(_str(raw, "language", limit=32), _str(raw, "topic", limit=32)),
    Note.type: lambda raw: Note(
        _str(raw, "session_id", limit=64, pattern=_ID), _text(raw, "text", limit=NOTE_MAX_CHARS)
    ),
    Leave.type: lambda raw: Leave(),
    Stats.type: _stats,
}
MESSAGE_TYPES = frozenset(_PARSERS)


def parse(text: str | bytes) -> ClientMessage:
    """One client frame as a typed message; ProtocolError (malformed_json, too_deep, bad_text,
    not_an_object, unknown_type, bad_field, too_long) otherwise."""
    try:
        raw = jsonedge.loads(text)
    except jsonedge.EdgeError as exc:
        raise ProtocolError(exc.code, str(exc)) from None
    if not isinstance(raw, dict):
        raise ProtocolError("not_an_object", "a message is a JSON object with a type")
    kind = raw.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        shown = kind if isinstance(kind, str) and len(kind) <= 32 else "?"
        raise ProtocolError("unknown_type", f"unknown message type {shown!r}")
    try:
        message: ClientMessage = parser(raw)
    except ProtocolError as exc:
        exc.ref = kind
        raise
    return message
