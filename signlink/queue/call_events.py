"""Call events: the call side's facts (a session started, wrapped up, noted, rated; a quality sample;
a check verdict) appended to the Redis stream `<root>:call-events` (redisio/keyspace.py), parsed into
one type.

The call and check code emit them (through this log or, atomically with a rule, from a Lua script
given `key` and `maxlen`); the recorder (records/recorder.py) is their one reader and the one writer
of records. Fields are flat strings like the queue's events; absent fields are not in the entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.errors import BackendUnavailable
from signlink.queue.consumer import StreamConsumer
from signlink.redisio import Keyspace, as_keyspace, is_cluster


class CallEventType(StrEnum):
    SESSION_STARTED = "session.started"
    WRAPPED_UP = "session.wrapped_up"
    NOTE = "session.note"
    RATED = "session.rated"
    QUALITY = "call.quality"  # one WebRTC stats sample from one side
    VERDICT = "check.verdict"  # a check's final verdict (the full record as JSON)
    CONTINUED = "check.continued"  # the customer continued despite a failed check


SAMPLE_FIELDS = (
    "rtt_ms",
    "packet_loss",
    "jitter_ms",
    "jitter_buffer_ms",
    "fps",
    "width",
    "height",
    "freezes",
)


@dataclass(frozen=True)
class CallEvent:
    id: str  # the stream entry id
    type: CallEventType
    at: float
    session_id: str | None = None
    ticket_id: str | None = None
    agent_id: str | None = None
    language: str | None = None
    topic: str | None = None
    started_at: float | None = None
    outcome: str | None = None  # wrap-up outcome
    text: str | None = None  # wrap-up notes, the note, the rating's comment
    n: int | None = None  # the note's number
    rating: int | None = None
    side: str | None = None
    sample: Mapping[str, float | None] | None = None
    verdict_id: str | None = None
    body: Mapping[str, Any] | None = None  # check.verdict: VerdictRecord.to_dict()


def _f(fields: Mapping[str, str], key: str) -> float | None:
    value = fields.get(key)
    return float(value) if value else None


def parse_call_event(entry_id: str, fields: Mapping[str, str]) -> CallEvent:
    """One stream entry as a CallEvent; ValueError (or KeyError) if it is not one."""
    kind = CallEventType(fields["type"])
    sample = None
    if kind is CallEventType.QUALITY:
        sample = {name: _f(fields, name) for name in SAMPLE_FIELDS}
    n, rating = fields.get("n"), fields.get("rating")
    body = json.loads(fields["body"]) if fields.get("body") else None
    return CallEvent(
        id=entry_id,
        type=kind,
        at=float(fields["at"]),
        session_id=fields.get("session") or None,
        ticket_id=fields.get("ticket") or None,
        agent_id=fields.get("agent") or None,
        language=fields.get("lang"),
        topic=fields.get("topic"),
        started_at=_f(fields, "started"),
        outcome=fields.get("outcome"),
        text=fields.get("text"),
        n=int(n) if n else None,
        rating=int(rating) if rating else None,
        side=fields.get("side") or None,
        sample=sample,
        verdict_id=fields.get("verdict") or None,
        body=body if isinstance(body, dict) else None,
    )


def _str(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class CallEventLog:
    """Appends call events; hands the recorder its consumer-group reader."""

    def __init__(self, redis: Redis, keys: Keyspace | str, *, maxlen: int) -> None:
        self.redis = redis
        self.key = as_keyspace(keys, cluster=is_cluster(redis)).key("call-events")
        self.maxlen = maxlen

    def fields(self, kind: CallEventType, at: float, **values: object) -> dict[str, str]:
        out = {"type": kind.value, "at": repr(at)}
        out.update({k: _str(v) for k, v in values.items() if v is not None})
        return out

    async def append(self, kind: CallEventType, at: float, **values: object) -> str:
        """Append one event (None values are left out); its stream id."""
        try:
            entry: Any = await self.redis.xadd(
                self.key,
                self.fields(kind, at, **values),  # type: ignore[arg-type]
                maxlen=self.maxlen,
                approximate=True,
            )
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot record the call event: {exc}") from exc
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def quality_sample(
        self, session_id: str, at: float, side: str, sample: Mapping[str, object]
    ) -> str:
        values = {name: sample.get(name) for name in SAMPLE_FIELDS}
        return await self.append(CallEventType.QUALITY, at, session=session_id, side=side, **values)

    def consumer(self, group: str, name: str) -> StreamConsumer:
        return StreamConsumer(self.redis, self.key, group, name, maxlen=self.maxlen)
