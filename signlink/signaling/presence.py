"""Who of a live call is connected, across processes, so a dropped call is held and then ended.

Two sorted sets in Redis (the only code that knows them; named by the Redis seam's Keyspace):
    <root>:call:seen    members whose socket is open, scored by when their process last vouched
    <root>:call:absent  members whose socket is gone, scored by when it went
A member names one party of one call: "<session>|<ticket>|<agent>|<c|a>", so whoever finds it stale
knows whom to tell without another lookup. Each process vouches for its own sockets every
`call_presence_interval_s`; a process that dies stops vouching, and after three intervals any
process's sweep moves its members to absent (the peer hears `peer disconnected`). Members absent
longer than the grace period are returned as expired: the caller ends that call (by "system"). The
call itself is never put back in the queue. Every change is one Lua script (Redis TIME as the clock),
so several processes sweeping at once claim each member exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from redis.exceptions import RedisError

from signlink.errors import BackendUnavailable
from signlink.redisio import Keyspace, RedisClient, as_keyspace, is_cluster, load
from signlink.signaling.protocol import Role

SWEEP_BATCH = 500
_NAMES = ("start", "connect", "drop", "refresh", "sweep")
_SCRIPTS = {name: load("signlink.signaling.lua", name, lib="lib") for name in _NAMES}


class Before(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    NONE = "none"


@dataclass(frozen=True)
class CallRef:
    """One live call: enough to reach both parties."""

    session_id: str
    ticket_id: str
    agent_id: str

    def member(self, role: Role) -> str:
        return f"{self.session_id}|{self.ticket_id}|{self.agent_id}|{'a' if role is Role.AGENT else 'c'}"

    def party(self, role: Role) -> str:
        return agent_party(self.agent_id) if role is Role.AGENT else customer_party(self.ticket_id)


def customer_party(ticket_id: str) -> str:
    return f"c:{ticket_id}"


def agent_party(agent_id: str) -> str:
    return f"a:{agent_id}"


def parse_member(member: bytes | str) -> tuple[CallRef, Role]:
    text = member.decode() if isinstance(member, bytes) else member
    session_id, ticket_id, agent_id, side = text.split("|")
    return CallRef(session_id, ticket_id, agent_id), Role.AGENT if side == "a" else Role.CUSTOMER


@dataclass(frozen=True)
class Swept:
    gone: tuple[tuple[CallRef, Role], ...]  # their process stopped vouching: tell the peer
    expired: tuple[tuple[CallRef, Role], ...]  # absent past the grace: end the call


class Presence:
    def __init__(self, redis: RedisClient, keys: Keyspace | str) -> None:
        self._redis = redis
        space = as_keyspace(keys, cluster=is_cluster(redis))
        self._keys = [space.key("call", "seen"), space.key("call", "absent")]

    async def _run(self, name: str, *args: str) -> object:
        try:
            return await _SCRIPTS[name](self._redis, self._keys, args)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"call presence unavailable: {exc}") from exc

    async def start(self, call: CallRef, *, customer_connected: bool) -> None:
        """The call begins with the agent here and the customer here or not (then the grace runs)."""
        await self._run(
            "start", call.member(Role.AGENT), call.member(Role.CUSTOMER), "1" if customer_connected else "0"
        )

    async def connect(self, call: CallRef, role: Role) -> Before:
        return Before(_text(await self._run("connect", call.member(role))))

    async def drop(self, call: CallRef, role: Role) -> bool:
        """The party's socket closed; True if it counted as present until now."""
        return bool(await self._run("drop", call.member(role)))

    async def refresh(self, members: Sequence[tuple[CallRef, Role]]) -> list[tuple[CallRef, Role]]:
        """Vouch for this process's parties; returns those a sweep had taken for gone."""
        if not members:
            return []
        revived = await self._run("refresh", *(call.member(role) for call, role in members))
        return [parse_member(m) for m in _items(revived)]

    async def is_present(self, call: CallRef, role: Role) -> bool:
        try:
            score = await self._redis.zscore(self._keys[0], call.member(role))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"call presence unavailable: {exc}") from exc
        return score is not None

    async def sweep(self, *, stale_s: float, grace_s: float) -> Swept:
        reply = await self._run("sweep", repr(stale_s), repr(grace_s), str(SWEEP_BATCH))
        gone, expired = _lists(reply)
        return Swept(
            gone=tuple(parse_member(m) for m in _items(gone)),
            expired=tuple(parse_member(m) for m in _items(expired)),
        )

    async def forget(self, call: CallRef) -> None:
        """The call is over: neither party is tracked any more."""
        members = [call.member(Role.AGENT), call.member(Role.CUSTOMER)]
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._keys[0], *members)
                pipe.zrem(self._keys[1], *members)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"call presence unavailable: {exc}") from exc

    async def restore(self, members: Iterable[tuple[CallRef, Role]]) -> None:
        """Put expired members back as absent (ending their call failed; the next sweep retries)."""
        mapping = {call.member(role): 0.0 for call, role in members}
        if mapping:
            try:
                await self._redis.zadd(self._keys[1], mapping)
            except (RedisError, OSError) as exc:
                raise BackendUnavailable(f"call presence unavailable: {exc}") from exc


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _items(value: object) -> list[bytes]:
    return [v for v in value if isinstance(v, bytes)] if isinstance(value, list) else []


def _lists(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [[], []]
