"""Consumer-group reads of an event stream: each event handed to one consumer, acknowledged after use.

The queue's event stream (QueueStore.consumer) and the call events (queue/call_events.py) are read
this way by the recorder; nothing else reads them by key. An entry a consumer took and never
acknowledged (its process died) is claimed by another after `idle_ms` (XAUTOCLAIM). The stream is
capped (MAXLEN ~): `lag()` says how far a group is behind, so an alarm can sound before the cap
trims events the group has not read (docs/operations.md, "Recorder lag").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from signlink.errors import BackendUnavailable

log = logging.getLogger(__name__)

Entry = tuple[str, dict[str, str]]  # (stream id, fields)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entries(raw: Any) -> list[Entry]:
    return [(_s(i), {_s(k): _s(v) for k, v in f.items()}) for i, f in raw or [] if f is not None]


@dataclass(frozen=True)
class Lag:
    pending: int  # handed out, not yet acknowledged
    unread: int | None  # not yet handed out (None: Redis cannot say, e.g. after a trim)
    length: int  # entries in the stream now
    maxlen: int  # the stream's cap

    @property
    def behind(self) -> int:
        return self.pending + (self.unread or 0)


class StreamConsumer:
    """One consumer `name` of group `group` on the stream `key` (made by the stream's owner)."""

    def __init__(self, redis: Redis, key: str, group: str, name: str, *, maxlen: int) -> None:
        self.redis = redis
        self.key = key
        self.group = group
        self.name = name
        self.maxlen = maxlen
        self.trimmed = 0  # entries the cap removed before this group read them (seen by claims)

    async def ensure_group(self) -> None:
        """Create the group from the stream's first entry (nothing kept is skipped); idempotent."""
        try:
            await self.redis.xgroup_create(self.key, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise BackendUnavailable(f"cannot create the consumer group {self.group}: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot create the consumer group {self.group}: {exc}") from exc

    async def read(self, *, own_backlog: bool, count: int, block_ms: int | None = None) -> list[Entry]:
        """Our own unacknowledged entries (own_backlog), else new ones (waiting up to block_ms)."""
        start = "0" if own_backlog else ">"
        try:
            reply: Any = await self.redis.xreadgroup(
                self.group, self.name, {self.key: start}, count=count, block=None if own_backlog else block_ms
            )
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream was deleted (or Redis lost it): start again
                await self.ensure_group()
                return []
            raise BackendUnavailable(f"cannot read {self.key}: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read {self.key}: {exc}") from exc
        out: list[Entry] = []
        for _stream, entries in reply or []:
            out += _entries(entries)
        return out

    async def claim_stale(self, idle_ms: int, count: int) -> list[Entry]:
        """Entries another consumer took more than idle_ms ago and never acknowledged."""
        try:
            reply: Any = await self.redis.xautoclaim(
                self.key, self.group, self.name, idle_ms, start_id="0-0", count=count
            )
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                await self.ensure_group()
                return []
            raise BackendUnavailable(f"cannot claim from {self.key}: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot claim from {self.key}: {exc}") from exc
        claimed = list(reply[1]) if reply else []
        deleted = [_s(x) for x in reply[2]] if reply and len(reply) > 2 else []
        gone = [_s(i) for i, f in claimed if f is None]
        if deleted or gone:
            self.trimmed += len(deleted) + len(gone)
            log.error(
                "%d events of %s were trimmed by its cap before they were recorded (first %s): "
                "raise the cap or the recorders (docs/operations.md)",
                len(deleted) + len(gone),
                self.key,
                (deleted or gone)[0],
            )
        if gone:
            await self.ack([*gone])
        found = _entries(claimed)
        if found:
            log.info("claimed %d events of %s left unrecorded by another process", len(found), self.key)
        return found

    async def ack(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            await self.redis.xack(self.key, self.group, *ids)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot acknowledge events of {self.key}: {exc}") from exc

    async def lag(self) -> Lag:
        try:
            length = int(await self.redis.xlen(self.key))
            groups: Any = await self.redis.xinfo_groups(self.key)
        except ResponseError:
            return Lag(0, 0, 0, self.maxlen)  # no stream yet
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the lag of {self.key}: {exc}") from exc
        for g in groups:
            if _s(g["name"]) == self.group:
                lag = g.get("lag")
                return Lag(int(g["pending"]), None if lag is None else int(lag), length, self.maxlen)
        return Lag(0, length, length, self.maxlen)

    async def drop_idle_consumers(self, idle_ms: int) -> None:
        """Forget consumers of ended processes once nothing is pending for them."""
        try:
            consumers: Any = await self.redis.xinfo_consumers(self.key, self.group)
            for c in consumers:
                name = _s(c["name"])
                if name != self.name and int(c["pending"]) == 0 and int(c["idle"]) > idle_ms:
                    await self.redis.xgroup_delconsumer(self.key, self.group, name)
        except ResponseError:
            return
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot tidy the consumer group {self.group}: {exc}") from exc
