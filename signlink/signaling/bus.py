"""The bus between signlink processes: deliver a message to a party wherever it is connected.

Design: one Redis pub/sub channel per connected party, `<root>:bus:<party>` (party = "c:<ticket id>"
for a customer, "a:<agent id>" for an agent). The process that holds the party's WebSocket subscribes
to its channel; any process reaches the party with one PUBLISH, whose reply (the number of
subscribers) says at once whether the party is connected anywhere: 0 means nobody got it, which is
how a chat message becomes `chat_failed`. A process that dies loses its Redis connection and with it
its subscriptions, so nothing stale is left to route to. One pub/sub connection per process carries
every subscription; one reader task hands messages to the process's hub in arrival order (Redis keeps
the order of messages from one publisher).

On Redis Cluster the bus uses sharded pub/sub (SSUBSCRIBE / SPUBLISH): every channel carries the
deployment's hash tag, so all of them live on the one node that serves that slot, and messages stay
on it instead of being broadcast to every node of the cluster.

Payloads are small: "R" + the encoded WebSocket message to pass on verbatim (the relay's fast path:
no parsing in the receiving process), or "C" + a JSON control message for the receiving hub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from signlink.deadline import bounded, stop_task
from signlink.errors import BackendUnavailable
from signlink.redisio import Keyspace, RedisClient, as_keyspace, is_cluster
from signlink.redisio.backoff import Backoff
from signlink.signaling.publisher import Publisher

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Relay:
    """An encoded WebSocket message for the party's socket, as it is."""

    text: str


@dataclass(frozen=True)
class Replace:
    """A newer connection of the party (generation `generation`) took over: older ones close (4409)."""

    generation: int


@dataclass(frozen=True)
class CallStarted:
    """To a customer: the agent accepted; their connection joins the session."""

    session_id: str
    agent_id: str
    agent_name: str


BusMessage = Relay | Replace | CallStarted
Sink = Callable[[str, BusMessage], None]


def encode(message: BusMessage) -> bytes:
    if isinstance(message, Relay):
        return b"R" + message.text.encode()
    if isinstance(message, Replace):
        body: dict[str, object] = {"k": "replace", "generation": message.generation}
    else:
        body = {
            "k": "call",
            "session": message.session_id,
            "agent": message.agent_id,
            "name": message.agent_name,
        }
    return b"C" + json.dumps(body, separators=(",", ":")).encode()


def decode(data: bytes) -> BusMessage:
    """ValueError for anything that is not a bus message."""
    kind, body = data[:1], data[1:]
    if kind == b"R":
        return Relay(body.decode())
    if kind != b"C":
        raise ValueError("not a bus message")
    raw = json.loads(body)
    if raw.get("k") == "replace":
        return Replace(int(raw["generation"]))
    if raw.get("k") == "call":
        return CallStarted(str(raw["session"]), str(raw["agent"]), str(raw["name"]))
    raise ValueError(f"unknown control message {raw.get('k')!r}")


class Bus:
    """This process's end of the bus. `sink(party, message)` gets what arrives for local parties."""

    def __init__(self, redis: RedisClient, keys: Keyspace | str, sink: Sink) -> None:
        self._redis = redis
        self._sharded = is_cluster(redis)
        self._prefix = as_keyspace(keys, cluster=self._sharded).key("bus", "")
        self._sink = sink
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[bytes, list[asyncio.Future[None]]] = {}
        # Always subscribed to something, so the reader has a connection to read from.
        self._home = f"{self._prefix}process:{uuid.uuid4().hex}"
        self._publisher = Publisher(redis, route_key=self._home, sharded=self._sharded)
        # Subscribed now: False from a lost connection until Redis confirms the resubscription
        # (/healthz says degraded meanwhile: a message for a party here would reach nobody).
        self.listening = False

    def channel(self, party: str) -> str:
        return self._prefix + party

    async def start(self) -> None:
        # On Cluster the client's connections go to the node serving the deployment's slot.
        self._pubsub = self._redis.pubsub()
        await self._subscribe(self._home)
        self.listening = True
        self._reader = asyncio.create_task(self._read(), name="bus-reader")

    async def _subscribe(self, channel: str | bytes) -> None:
        assert self._pubsub is not None, "bus not started"
        if self._sharded:
            await self._pubsub.ssubscribe(channel)
        else:
            await self._pubsub.subscribe(channel)

    async def close(self) -> None:
        await bounded("close the bus publisher", self._publisher.close())
        reader, self._reader = self._reader, None
        await stop_task(reader, "the bus reader")
        if self._pubsub is not None:
            await bounded("close the bus subscription", self._pubsub.aclose())  # type: ignore[no-untyped-call]
            self._pubsub = None

    async def subscribe(self, party: str) -> None:
        """Receive the party's messages from now on; returns once Redis has confirmed it."""
        assert self._pubsub is not None, "bus not started"
        if not self.listening:
            # The reader is reconnecting: a SUBSCRIBE now would reconnect the same connection
            # concurrently (two readers on one stream). The client retries its hello.
            raise BackendUnavailable("cannot subscribe to the bus: reconnecting to Redis")
        channel = self.channel(party).encode()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(channel, []).append(done)
        try:
            await self._subscribe(channel)
            await asyncio.wait_for(asyncio.shield(done), SUBSCRIBE_TIMEOUT_S)
        except (RedisError, OSError, TimeoutError, RuntimeError) as exc:
            # RuntimeError: the reader reconnects the same connection right now (see _read).
            raise BackendUnavailable(f"cannot subscribe to the bus: {exc}") from exc
        finally:
            waiting = self._pending.get(channel, [])
            if done in waiting:
                waiting.remove(done)
            if not waiting:
                self._pending.pop(channel, None)

    async def unsubscribe(self, party: str) -> None:
        if self._pubsub is None:
            return
        try:
            if self._sharded:
                await self._pubsub.sunsubscribe(self.channel(party))
            else:
                await self._pubsub.unsubscribe(self.channel(party))
        except (RedisError, OSError) as exc:
            log.warning("bus: cannot unsubscribe %s: %s", party, exc)

    async def publish(self, party: str, message: BusMessage) -> int:
        """Send to the party; the number of processes that got it (0: the party is not connected)."""
        return await self._publisher.publish(self.channel(party).encode(), encode(message))

    async def _read(self) -> None:
        assert self._pubsub is not None
        backoff = Backoff()
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError, RuntimeError) as exc:
                # RuntimeError: a SUBSCRIBE reconnected the connection while this read it (asyncio
                # streams allow one reader). Start over on a clean connection: the reader must live.
                if self.listening:
                    log.warning("bus reader lost Redis (%s); retrying", exc)
                self.listening = False
                if isinstance(exc, RuntimeError) and self._pubsub.connection is not None:
                    await bounded("reset the bus connection", self._pubsub.connection.disconnect())
                await asyncio.sleep(backoff.pause())
                continue
            if not self.listening and message is not None:
                # redis-py resubscribes on reconnecting: the first replies are those confirmations.
                log.info("bus reader back on Redis")
                self.listening = True
                backoff.reset()
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, object]) -> None:
        kind, channel = message.get("type"), message.get("channel")
        if not isinstance(channel, bytes):
            return
        if kind in ("subscribe", "ssubscribe"):
            for done in self._pending.pop(channel, []):
                if not done.done():
                    done.set_result(None)
            return
        if kind not in ("message", "smessage"):
            return
        data = message.get("data")
        party = channel.decode()[len(self._prefix) :]
        try:
            decoded = decode(data if isinstance(data, bytes) else b"")
        except (ValueError, KeyError) as exc:
            log.warning("bus: dropped a malformed message for %s: %s", party, exc)
            return
        try:
            self._sink(party, decoded)
        except Exception:
            log.exception("bus: delivering to %s failed", party)
