"""Connecting to Redis: the three URL forms of SIGNLINK_REDIS_URL and one client factory for all of them.

    redis://[[user]:password@]host:port/db     one Redis (also rediss:// for TLS, unix:///path?db=0)
    redis+sentinel://[[user]:password@]host:26379[,host2:26380...]/service[/db][?sentinel_password=..]
    redis+cluster://[[user]:password@]host:7000[,host2:7001...][/]

Credentials in the URL are those of the Redis data nodes; Sentinels that need their own take
`sentinel_username` / `sentinel_password` options (percent-encoded). `rediss+sentinel://` and
`rediss+cluster://` use TLS to the data nodes. Every client retries a command once, after a short
pause, when its connection turns out to be dead (a Redis restart or a Sentinel failover leaves stale
pooled connections); write scripts are made safe to repeat by their call id (queue/store.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster, Sentinel
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from signlink.errors import ConfigError

RedisClient: TypeAlias = Redis | RedisCluster
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
) -> RedisClient:
    """A client for any URL form. Timeouts make requests fail fast while Redis is away."""
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
        return Redis.from_pool(pool)
    auth = {"username": t.username, "password": t.password}
    if t.kind == "cluster":
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in t.nodes],
            max_connections=max_connections,
            ssl=t.tls,
            **auth,  # type: ignore[arg-type]
            **common,  # type: ignore[arg-type]
        )
    sentinel_kwargs = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "username": t.sentinel_username,
        "password": t.sentinel_password,
    }
    sentinel = Sentinel(list(t.nodes), sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    client: Redis = sentinel.master_for(
        t.service,
        redis_class=Redis,
        connection_pool_class=SentinelConnectionPool,
        db=t.db,
        ssl=t.tls,
        max_connections=max_connections,
        health_check_interval=5,
        **auth,
        **common,
    )
    return client


def is_cluster(client: RedisClient) -> bool:
    return isinstance(client, RedisCluster)


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
    if isinstance(client, RedisCluster):
        await client.initialize()
        node = client.get_node_from_key(key)
        if node is None:
            raise RedisConnectionError(f"no Cluster node serves {key!r} now")
        kwargs = node.connection_kwargs
        return Endpoint(
            node.host,
            int(node.port),
            tls=bool(kwargs.get("ssl")) or "SSL" in node.connection_class.__name__,
            username=kwargs.get("username"),
            password=kwargs.get("password"),
        )
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    tls = "SSL" in pool.connection_class.__name__ or bool(kwargs.get("ssl"))
    if isinstance(pool, SentinelConnectionPool):
        host, port = await pool.get_master_address()  # type: ignore[no-untyped-call]
        return Endpoint(
            str(host), int(port), tls=tls, username=kwargs.get("username"), password=kwargs.get("password")
        )
    return Endpoint(
        str(kwargs.get("host", "127.0.0.1")),
        int(kwargs.get("port", 6379)),
        path=kwargs.get("path"),
        tls=tls,
        username=kwargs.get("username"),
        password=kwargs.get("password"),
    )


async def node_client(client: RedisClient, key: str) -> Redis:
    """A plain client for the node serving `key` (Cluster: for sharded pub/sub); else `client` itself."""
    if not isinstance(client, RedisCluster):
        return client
    found = await endpoint_for(client, key)
    return Redis(
        host=found.host,
        port=found.port,
        username=found.username,
        password=found.password,
        ssl=found.tls,
        socket_connect_timeout=1.0,
        retry=retry_once(),
        retry_on_error=[RedisConnectionError],
    )
