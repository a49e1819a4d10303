"""The live state of a call's record-keeping: who took it, the wrap-up, the agent's notes, the rating.

Each change checks its rule (only the session's agent wraps up, once; one rating) and appends the
fact as a call event (queue/call_events.py) in the same atomic step; the recorder writes the record
into PostgreSQL from that event. This hash is live state only, kept `LIVE_MAX_S` at most (the
console resumes a wrap-up after a reload; a late rating is still accepted).

Metadata only: chat text never comes here (it is relayed, never stored). One hash per session,
`<root>:session:<session id>` (redisio/keyspace.py; session ids are the queue's "s…" ids):
    session_id, ticket_id, agent_id, language, topic, started_at   written when the call starts
    outcome, wrap_notes, wrapped_at                                 the agent's wrap-up (once)
    notes = n, note:<i>, note_at:<i> (i = 1..n)                      private notes of the agent
    rating, rating_comment, rated_at                                 the customer's rating (once)
plus `<root>:agent-session:<agent id>` = the agent's latest session id (the console resumes a
wrap-up after a reload). Times are epoch seconds. Only the session's agent may wrap up or add notes;
each rule is checked inside one Lua script. This module is the only code that knows these keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from signlink.errors import BackendUnavailable, Conflict, Forbidden, NotFound
from signlink.queue.call_events import CallEventLog, CallEventType
from signlink.redisio import Keyspace, as_keyspace, is_cluster

LIVE_MAX_S = 2 * 86400
_LUA = resources.files("signlink.records").joinpath("lua")


@dataclass(frozen=True)
class NoteRecord:
    text: str
    at: float


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    ticket_id: str
    agent_id: str
    language: str
    topic: str
    started_at: float
    outcome: str | None = None
    wrap_notes: str | None = None
    wrapped_at: float | None = None
    notes: tuple[NoteRecord, ...] = ()
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: float | None = None

    @classmethod
    def from_fields(cls, data: dict[str, str]) -> SessionRecord:
        count = int(data.get("notes", "0"))
        notes = tuple(
            NoteRecord(data.get(f"note:{i}", ""), float(data.get(f"note_at:{i}", "0")))
            for i in range(1, count + 1)
        )
        return cls(
            session_id=data["session_id"],
            ticket_id=data["ticket_id"],
            agent_id=data["agent_id"],
            language=data.get("language", ""),
            topic=data.get("topic", ""),
            started_at=float(data.get("started_at", "0")),
            outcome=data.get("outcome"),
            wrap_notes=data.get("wrap_notes"),
            wrapped_at=_float(data.get("wrapped_at")),
            notes=notes,
            rating=int(data["rating"]) if "rating" in data else None,
            rating_comment=data.get("rating_comment"),
            rated_at=_float(data.get("rated_at")),
        )


def _float(value: str | None) -> float | None:
    return float(value) if value else None


class SessionRecords:
    def __init__(
        self, redis: Redis, keys: Keyspace | str, live_s: int, *, events_maxlen: int = 100_000
    ) -> None:
        self._redis = redis
        # The queue's keyspace: on Cluster each script's hash and the call-event stream share its slot.
        self._keys = as_keyspace(keys, cluster=is_cluster(redis))
        self._retention_s = min(live_s, LIVE_MAX_S)
        self.events = CallEventLog(redis, self._keys, maxlen=events_maxlen)
        self._wrap_up = redis.register_script(_LUA.joinpath("session_wrap_up.lua").read_text())
        self._note = redis.register_script(_LUA.joinpath("session_note.lua").read_text())
        self._rate = redis.register_script(_LUA.joinpath("session_rate.lua").read_text())

    def key(self, session_id: str) -> str:
        return self._keys.key("session", session_id)

    def _agent_key(self, agent_id: str) -> str:
        return self._keys.key("agent-session", agent_id)

    async def start(
        self,
        *,
        session_id: str,
        ticket_id: str,
        agent_id: str,
        language: str,
        topic: str,
        started_at: float | None = None,
    ) -> None:
        at = time.time() if started_at is None else started_at
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(
                    self.key(session_id),
                    mapping={
                        "session_id": session_id,
                        "ticket_id": ticket_id,
                        "agent_id": agent_id,
                        "language": language,
                        "topic": topic,
                        "started_at": repr(at),
                    },
                )
                fields = self.events.fields(
                    CallEventType.SESSION_STARTED,
                    at,
                    session=session_id,
                    ticket=ticket_id,
                    agent=agent_id,
                    lang=language,
                    topic=topic,
                    started=at,
                )
                pipe.xadd(self.events.key, fields, maxlen=self.events.maxlen, approximate=True)  # type: ignore[arg-type]
                pipe.expire(self.key(session_id), self._retention_s)
                pipe.set(self._agent_key(agent_id), session_id, ex=self._retention_s)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot record the session: {exc}") from exc

    async def get(self, session_id: str) -> SessionRecord:
        try:
            raw = await self._redis.hgetall(self.key(session_id))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the session record: {exc}") from exc
        if not raw:
            raise NotFound(f"no session record {session_id}")
        return SessionRecord.from_fields({_s(k): _s(v) for k, v in raw.items()})

    async def latest_for_agent(self, agent_id: str) -> str | None:
        try:
            value = await self._redis.get(self._agent_key(agent_id))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the session record: {exc}") from exc
        return None if value is None else _s(value)

    async def wrap_up(self, session_id: str, *, agent_id: str, outcome: str, notes: str) -> None:
        """The agent's wrap-up: Forbidden if not their session, Conflict if already wrapped up."""
        status = await self._call(self._wrap_up, session_id, agent_id, outcome, notes, repr(time.time()))
        if status == -2:
            raise Conflict(f"session {session_id} is already wrapped up")

    async def add_note(self, session_id: str, *, agent_id: str, text: str) -> int:
        """Append a private note; its number (1, 2, ...)."""
        return await self._call(self._note, session_id, agent_id, text, repr(time.time()))

    async def rate(self, session_id: str, *, score: int, comment: str) -> None:
        """The customer's rating (1-5): Conflict if the session is rated already."""
        status = await self._call(self._rate, session_id, None, str(score), comment, repr(time.time()))
        if status == -2:
            raise Conflict(f"session {session_id} is already rated")

    async def _call(self, script: AsyncScript, session_id: str, agent_id: str | None, *args: str) -> int:
        argv = [*([agent_id] if agent_id is not None else []), *args, str(self.events.maxlen)]
        try:
            status = int(await script(keys=[self.key(session_id), self.events.key], args=argv))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot update the session record: {exc}") from exc
        if status == 0:
            raise NotFound(f"no session record {session_id}")
        if status == -1:
            raise Forbidden(f"session {session_id} is not yours")
        return status


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
