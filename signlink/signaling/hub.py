"""This process's connections: one per party, reachable through the bus, all closed on shutdown.

A party that connects again (a reload, a second tab, a reconnect to another process) takes over: its
new connection gets the next generation number from Redis (`<root>:conn:<party>`, INCR) and tells
every process through the bus; any older connection of the party, here or elsewhere, is closed with
4409. The highest generation always wins, whatever order the messages arrive in; a `Replace` lost on
the bus is caught by the periodic `close_replaced` (each presence round).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

from redis.exceptions import RedisError

from signlink.errors import BackendUnavailable
from signlink.redisio import Keyspace, RedisClient, as_keyspace, is_cluster
from signlink.signaling.bus import Bus, BusMessage, CallStarted, Relay, Replace
from signlink.signaling.connection import Connection
from signlink.signaling.protocol import CloseCode, Role

log = logging.getLogger(__name__)

GENERATION_TTL_S = 7 * 86400
CHAT_PREFIX = '{"type":"chat","id":"'  # how outgoing.encode writes a ChatRelay (ids need no escapes)
CLOSE_WAIT_S = 5.0


class Hub:
    def __init__(self, redis: RedisClient, keys: Keyspace | str) -> None:
        self._redis = redis
        self._keys = as_keyspace(keys, cluster=is_cluster(redis))
        self.bus = Bus(redis, self._keys, self._deliver)
        self._parties: dict[str, Connection] = {}
        self._all: set[Connection] = set()
        self.on_call_started: Callable[[Connection, CallStarted], None] | None = None

    async def start(self) -> None:
        await self.bus.start()

    # -- registry ------------------------------------------------------------------------------------

    def add(self, conn: Connection) -> None:
        """Every open socket, even before its hello (so shutdown closes it too)."""
        self._all.add(conn)

    def discard(self, conn: Connection) -> None:
        self._all.discard(conn)

    def get(self, party: str) -> Connection | None:
        return self._parties.get(party)

    def connections(self, role: Role) -> Iterator[Connection]:
        return (c for c in list(self._parties.values()) if c.role is role)

    def __len__(self) -> int:
        return len(self._parties)

    def generation_key(self, party: str) -> str:
        """The party's connection counter (call presence reads it: a drop by an older socket is void)."""
        return self._keys.key("conn", party)

    async def claim(self, conn: Connection, party: str) -> bool:
        """Make `conn` the party's connection; False if a newer one got there first (conn is closed)."""
        key = self.generation_key(party)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, GENERATION_TTL_S)
                generation = int((await pipe.execute())[0])
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot register the connection: {exc}") from exc
        conn.party, conn.generation = party, generation
        old = self._parties.get(party)
        if old is not None and old.generation > generation:
            conn.close_soon(CloseCode.REPLACED, "replaced by a newer connection")
            return False
        self._parties[party] = conn
        if old is not None:
            log.info("%s: connection %s replaced by %s", party, old.id, conn.id)
            old.close_soon(CloseCode.REPLACED, "replaced by a newer connection")
        else:
            await self.bus.subscribe(party)
        await self.bus.publish(party, Replace(generation))
        return True

    async def close_replaced(self) -> int:
        """Close the connections here whose party has a newer generation in Redis: their `Replace` was
        lost (published while this process's bus was resubscribing after a Redis restart). How many."""
        held = [(party, conn) for party, conn in self._parties.items() if conn.generation]
        if not held:
            return 0
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for party, _ in held:
                    pipe.get(self.generation_key(party))
                values = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read connection generations: {exc}") from exc
        closed = 0
        for (party, conn), value in zip(held, values, strict=True):
            if value is not None and int(value) > conn.generation and self._parties.get(party) is conn:
                log.info("%s: connection %s replaced elsewhere (generation %s)", party, conn.id, int(value))
                conn.close_soon(CloseCode.REPLACED, "replaced by a newer connection")
                closed += 1
        return closed

    async def release(self, conn: Connection) -> bool:
        """Forget the connection; True if it was still its party's (not replaced)."""
        self._all.discard(conn)
        if conn.party is None or self._parties.get(conn.party) is not conn:
            return False
        del self._parties[conn.party]
        await self.bus.unsubscribe(conn.party)
        return True

    # -- delivery ------------------------------------------------------------------------------------

    def _deliver(self, party: str, message: BusMessage) -> None:
        conn = self._parties.get(party)
        if conn is None:
            return
        if isinstance(message, Relay):
            if message.text.startswith(CHAT_PREFIX) and conn.chat_seen_before(_chat_id(message.text)):
                return  # a resent chat message (same id): the receiver has it already
            conn.send_text(message.text)
        elif isinstance(message, Replace):
            if message.generation > conn.generation:
                log.info("%s: connection %s replaced on another process", party, conn.id)
                conn.close_soon(CloseCode.REPLACED, "replaced by a newer connection")
        elif self.on_call_started is not None:
            self.on_call_started(conn, message)

    # -- shutdown ------------------------------------------------------------------------------------

    async def close_all(self, code: CloseCode, reason: str) -> None:
        """Close every socket and wait (a little) for their handlers to clean up."""
        conns = list(self._all)
        for conn in conns:
            conn.close_soon(code, reason)
        if conns:
            waits = [asyncio.create_task(c.finished.wait()) for c in conns]
            _done, pending = await asyncio.wait(waits, timeout=CLOSE_WAIT_S)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("%s connections did not finish closing in time", len(pending))

    async def close(self) -> None:
        await self.bus.close()


def _chat_id(text: str) -> str:
    start = len(CHAT_PREFIX)
    return text[start : text.find('"', start)]
