"""Connecting to Redis: the three URL forms of SIGNLINK_REDIS_URL and one client factory for all of them.

    redis://[[user]:password@]host:port/db     one Redis (also rediss:// for TLS, unix:///path?db=0)
    redis+sentinel://[[user]:password@]host:26379[,host2:26380...]/service[/db][?sentinel_password=..]
    redis+cluster://[[user]:password@]host:7000[,host2:7001...][/]

Credentials in the URL are those of the Redis data nodes; Sentinels that need their own take
`sentinel_username` / `sentinel_password` options (percent-encoded). `rediss+sentinel://` and
`rediss+cluster://` use TLS to the data nodes. Every client retries a command once, after a short
pause, when its connection turns out to be dead (a Redis restart or a Sentinel failover leaves stale
pooled connections); write scripts are made safe to repeat by their call id (queue/store.py).

On Cluster every key of a deployment carries one hash tag (keyspace.py), so the whole deployment
lives in one slot, on one primary. The client therefore talks to that primary directly, through a
pool that finds it (CLUSTER SLOTS on any listed node) and follows it: a MOVED reply (failover,
resharding) re-targets the pool and the command is sent again there, once. This is also why no
cluster router sits in the hot path (redis-py's async RedisCluster dropped connections under
concurrency here, and routing buys nothing when every key is in one slot).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, Sentinel
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import (
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)
from redis.backoff import ExponentialBackoff
from redis.crc import key_slot
from redis.exceptions import AskError, ClusterDownError, RedisError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError

from signlink.errors import ConfigError

RedisClient: TypeAlias = Redis
Kind = Literal["single", "sentinel", "cluster"]

SINGLE_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


@dataclass(frozen=True)
class RedisTarget:
    """A parsed SIGNLINK_REDIS_URL."""

    kind: Kind
    url: str = field(repr=False)
    nodes: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    tls: bool = False

    @property
    def hash_tag(self) -> bool:
        """Cluster deployments put every key in one slot (keyspace.py)."""
        return self.kind == "cluster"


def parse_url(url: str) -> RedisTarget:
    """ConfigError naming what is wrong; plain redis:// URLs are passed through to redis-py as they are."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in SINGLE_SCHEMES:
        return RedisTarget("single", url)
    if scheme not in SENTINEL_SCHEMES + CLUSTER_SCHEMES:
        raise ConfigError(
            f"SIGNLINK_REDIS_URL must start with redis://, rediss://, unix://, redis+sentinel:// or "
            f"redis+cluster://, got {url.split('://', 1)[0]!r}"
        )
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, password = None, None
    if userinfo:
        user, _, secret = userinfo.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    nodes = tuple(_node(h, 26379 if scheme in SENTINEL_SCHEMES else 6379) for h in hosts.split(",") if h)
    if not nodes:
        raise ConfigError("SIGNLINK_REDIS_URL names no host")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(options) - {"sentinel_username", "sentinel_password"}
    if unknown:
        raise ConfigError(f"SIGNLINK_REDIS_URL: unknown option(s) {', '.join(sorted(unknown))}")
    path = [p for p in parts.path.split("/") if p]
    tls = scheme.startswith("rediss")
    if scheme in CLUSTER_SCHEMES:
        if path not in ([], ["0"]):
            raise ConfigError(
                "SIGNLINK_REDIS_URL: Redis Cluster has only database 0 (end the URL with / or /0)"
            )
        return RedisTarget("cluster", url, nodes, username=username, password=password, tls=tls)
    if not path or len(path) > 2:
        raise ConfigError("SIGNLINK_REDIS_URL: a Sentinel URL ends with /<service name>[/<db>]")
    try:
        db = int(path[1]) if len(path) == 2 else 0
    except ValueError:
        raise ConfigError(f"SIGNLINK_REDIS_URL: database must be a number, got {path[1]!r}") from None
    return RedisTarget(
        "sentinel",
        url,
        nodes,
        service=path[0],
        db=db,
        username=username,
        password=password,
        sentinel_username=options.get("sentinel_username"),
        sentinel_password=options.get("sentinel_password"),
        tls=tls,
    )


def _node(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):  # [::1]:7000
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = text.partition(":")
    try:
        return host, int(port) if port else default_port
    except ValueError:
        raise ConfigError(f"SIGNLINK_REDIS_URL: bad port in {text!r}") from None


def retry_once() -> Retry:
    """One more try after 50-200 ms when the connection is dead (not on a timeout: Redis may be busy)."""
    return Retry(ExponentialBackoff(cap=0.2, base=0.05), 1, supported_errors=(RedisConnectionError,))


def connect(
    target: RedisTarget | str,
    *,
    max_connections: int = 200,
    socket_timeout: float | None = 2.0,
    connect_timeout: float | None = 1.0,
    pool_timeout: float = 2.0,
    slot_key: str = "",
) -> RedisClient:
    """A client for any URL form. Timeouts make requests fail fast while Redis is away.

    `slot_key` (Cluster): any key of the deployment (its Keyspace root), to find the slot's primary at
    once; without it the first MOVED reply finds it."""
    t = parse_url(target) if isinstance(target, str) else target
    common: dict[str, object] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": retry_once(),
        "retry_on_error": [RedisConnectionError],
        "decode_responses": False,
    }
    if t.kind == "single":
        # A blocking pool: a burst (1,000 agents going available at once) waits briefly for a
        # connection instead of failing with "Too many connections".
        pool = BlockingConnectionPool.from_url(
            t.url, max_connections=max_connections, timeout=pool_timeout, health_check_interval=5, **common
        )
        pool.connection_class = ONE_AT_A_TIME.get(pool.connection_class, pool.connection_class)
        return Redis.from_pool(pool)
    auth = {"username": t.username, "password": t.password}
    if t.kind == "cluster":
        pool = ClusterSlotPool(
            t.nodes,
            slot_key=slot_key,
            max_connections=max_connections,
            timeout=pool_timeout,
            health_check_interval=5,
            connection_class=SlotSSLConnection if t.tls else SlotConnection,
            **auth,
            **common,
        )
        return SlotRedis.from_pool(pool)
    sentinel_kwargs = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "username": t.sentinel_username,
        "password": t.sentinel_password,
    }
    sentinel = SentinelGroup(list(t.nodes), sentinel_kwargs=sentinel_kwargs)
    client: SentinelRedis = sentinel.master_for(
        t.service,
        redis_class=SentinelRedis,
        connection_pool_class=SentinelConnectionPool,
        connection_class=OneSentinelSSLConnection if t.tls else OneSentinelConnection,
        db=t.db,
        ssl=t.tls,
        max_connections=max_connections,
        health_check_interval=5,
        **auth,
        **common,
    )
    client.sentinel_manager = sentinel
    return client


class ConnectsOnce(AbstractConnection):
    """One connect at a time. redis-py lets two coroutines connect the same connection at once (a
    PubSub's reader reconnecting while a handler SUBSCRIBEs or UNSUBSCRIBEs after a failover): both
    open a socket, the second replaces the first, and the first is never closed. The second now waits
    and finds the connection made. A connect callback (PubSub re-subscribing) whose connection breaks
    reconnects inside the first connect, in the same task: that one goes ahead (no deadlock)."""

    _connecting: asyncio.Lock | None = None
    _connector: asyncio.Task[Any] | None = None

    async def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        if self.is_connected:
            return
        if self._connector is not None and self._connector is asyncio.current_task():
            await super().connect_check_health(check_health, retry_socket_connect)
            return
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            self._connector = asyncio.current_task()
            try:
                await super().connect_check_health(check_health, retry_socket_connect)
            finally:
                self._connector = None


class OneConnection(ConnectsOnce, Connection):
    pass


class OneSSLConnection(ConnectsOnce, SSLConnection):
    pass


class OneUnixConnection(ConnectsOnce, UnixDomainSocketConnection):
    pass


class OneSentinelConnection(ConnectsOnce, SentinelManagedConnection):
    pass


class OneSentinelSSLConnection(ConnectsOnce, SentinelManagedSSLConnection):
    pass


ONE_AT_A_TIME: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: OneConnection,
    SSLConnection: OneSSLConnection,
    UnixDomainSocketConnection: OneUnixConnection,
}


class SentinelGroup(Sentinel):
    """redis-py's Sentinel, whose list of sentinels stays whole when discoveries overlap.

    redis-py moves the sentinel that answered to the front by swapping it with the first; two
    discoveries at once (every caller during a failover, or whenever the first sentinel is down)
    swap from stale positions, so one sentinel appears twice and another drops out: it is never
    asked again, and never closed (its sockets leak). Each discovery mends the list when it ends."""

    def __init__(self, sentinels: list[tuple[str, int]], **kwargs: Any) -> None:
        super().__init__(sentinels, **kwargs)  # type: ignore[no-untyped-call]
        self.every: tuple[Redis, ...] = tuple(self.sentinels)

    async def discover_master(self, service_name: str) -> Any:
        try:
            return await super().discover_master(service_name)
        finally:
            if len({id(s) for s in self.sentinels}) < len(self.every):
                first = self.sentinels[0]
                self.sentinels[:] = [first, *(s for s in self.every if s is not first)]


class SentinelRedis(Redis):
    """A client of Sentinel's current primary that also closes its connections to the sentinels."""

    sentinel_manager: SentinelGroup | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for watcher in self.sentinel_manager.every if self.sentinel_manager else ():
            await watcher.aclose()


def is_cluster(client: RedisClient) -> bool:
    return isinstance(client.connection_pool, ClusterSlotPool)


class SlotRedis(Redis):
    """A client of the Cluster primary serving the deployment's slot (ClusterSlotPool)."""

    async def flushdb(self, asynchronous: bool = False, **kwargs: Any) -> bool:
        """Empties every primary of the cluster (tests and `signlink` resets), not just the slot's."""
        pool = self.connection_pool
        assert isinstance(pool, ClusterSlotPool)
        for host, port in await pool.primaries():
            node = pool.node_client(host, port)
            try:
                await node.flushdb(asynchronous=asynchronous)
            finally:
                await node.aclose()
        return True


class ClusterSlotPool(BlockingConnectionPool):
    """Connections to the one Cluster primary that serves the deployment's slot (see the module doc)."""

    def __init__(self, nodes: tuple[tuple[str, int], ...], *, slot_key: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connection_kwargs["connection_pool"] = weakref.proxy(self)
        self.nodes = nodes
        self.slot_key = slot_key
        self.target: tuple[str, int] | None = None
        self._lock = asyncio.Lock()

    async def address(self) -> tuple[str, int]:
        """Where new connections go: the slot's primary, found once and then followed by MOVED."""
        if self.target is None:
            async with self._lock:
                if self.target is None:
                    self.target = await self.owner_of(self.slot_key) if self.slot_key else self.nodes[0]
        return self.target

    def moved(self, host: str, port: int) -> None:
        self.target = (host, port)

    def forget(self) -> None:
        """The target is gone (connection refused): look it up again on the next connect."""
        self.target = None

    def node_client(self, host: str, port: int) -> Redis:
        """A short-lived plain client of one node (CLUSTER SLOTS, flushes)."""
        return Redis(
            host=host,
            port=port,
            username=self.connection_kwargs.get("username"),
            password=self.connection_kwargs.get("password"),
            ssl=issubclass(self.connection_class, SSLConnection),
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
        )

    async def _slots(self) -> list[Any]:
        """CLUSTER SLOTS from the first listed node that answers."""
        errors = []
        for host, port in [*([self.target] if self.target else []), *self.nodes]:
            node = self.node_client(host, port)
            try:
                ranges: list[Any] = await node.execute_command("CLUSTER SLOTS")  # type: ignore[no-untyped-call]
                return [
                    (int(a), int(b), _host(primary[0], host), int(primary[1])) for a, b, primary, *_ in ranges
                ]
            except (RedisError, OSError) as exc:
                errors.append(f"{host}:{port}: {exc}")
            finally:
                await node.aclose()
        raise RedisConnectionError("no Cluster node answered CLUSTER SLOTS: " + "; ".join(errors))

    async def owner_of(self, key: str) -> tuple[str, int]:
        """The primary serving `key`'s slot now."""
        slot = key_slot(key.encode())
        for start, end, host, port in await self._slots():
            if start <= slot <= end:
                return host, port
        raise RedisConnectionError(f"no Cluster node serves slot {slot}")

    async def primaries(self) -> list[tuple[str, int]]:
        return sorted({(host, port) for _a, _b, host, port in await self._slots()})


def _host(value: bytes | str, fallback: str) -> str:
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text or fallback  # an empty host means "the address you asked"


class SlotConnection(ConnectsOnce, Connection):
    """A connection to the pool's current target; MOVED re-targets the pool and fails over to a retry."""

    def __init__(self, **kwargs: Any) -> None:
        self.connection_pool: ClusterSlotPool = kwargs.pop("connection_pool")
        super().__init__(**kwargs)

    async def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        if self.is_connected:
            return
        self.host, self.port = await self.connection_pool.address()
        try:
            await super().connect_check_health(check_health, retry_socket_connect)
        except RedisConnectionError:
            self.connection_pool.forget()  # the primary died: ask the cluster again next time
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except AskError as exc:  # MOVED (a subclass) or ASK: the slot is, or is going, elsewhere
            self.connection_pool.moved(str(exc.host), int(exc.port))
            await self.disconnect()
            raise RedisConnectionError(f"Cluster slot {exc.slot_id} moved to {exc.node_addr}") from exc
        except (ClusterDownError, TryAgainError) as exc:  # a failover in progress: retry shortly
            self.connection_pool.forget()
            await self.disconnect()
            raise RedisConnectionError(f"Cluster busy: {exc}") from exc


class SlotSSLConnection(SlotConnection, SSLConnection):
    pass


@dataclass(frozen=True)
class Endpoint:
    """Where a raw connection reaches the node that serves a key (the bus publisher's own socket)."""

    host: str
    port: int
    path: str | None = None
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


async def endpoint_for(client: RedisClient, key: str) -> Endpoint:
    """The primary that serves `key` now: the one Redis, Sentinel's current primary, or the slot's node."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    tls = issubclass(pool.connection_class, SSLConnection) or bool(kwargs.get("ssl"))
    credentials = {"username": kwargs.get("username"), "password": kwargs.get("password")}
    if isinstance(pool, ClusterSlotPool):
        host, port = await pool.owner_of(key)
        return Endpoint(host, port, tls=tls, **credentials)
    if isinstance(pool, SentinelConnectionPool):
        host, port = await pool.get_master_address()  # type: ignore[no-untyped-call]
        return Endpoint(str(host), int(port), tls=tls, **credentials)
    return Endpoint(
        str(kwargs.get("host", "127.0.0.1")),
        int(kwargs.get("port", 6379)),
        path=kwargs.get("path"),
        tls=tls,
        **credentials,
    )
