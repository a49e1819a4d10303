"""Keyspace: every Redis key and channel name of a deployment, built from the prefix and an optional hash tag.

A key is `<root>:<owner>:<part>:...` where root is the prefix (`signlink`) or, on Redis Cluster, the
prefix as a hash tag (`{signlink}`): every key and sharded channel of the deployment then hashes to one
slot, so each multi-key script stays atomic on one node (docs/operations.md says what that costs).
Each top-level name has one owner, listed in OWNERS; nothing else in signlink builds a key string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signlink.config import Settings
from signlink.errors import ConfigError

# Top-level names and the one module that owns each. A key outside this table is a bug.
OWNERS: dict[str, str] = {
    "queue": "queue/store.py: tickets, agents, offers, skill queues, counters, script replies",
    "events": "queue/store.py: the queue's event stream (read through QueueStore.read_events)",
    "account": "accounts/store.py: one hash per staff account",
    "accounts": "accounts/store.py: the set of usernames",
    "staff-session": "accounts/store.py: one hash per staff login (was `session:` until the Redis seam)",
    "account-sessions": "accounts/store.py: the staff logins of one account",
    "login-user": "accounts/store.py: login attempts per username",
    "login-addr": "accounts/store.py: login attempts per client address",
    "revoked": "accounts/store.py: pub/sub channel of ended staff logins (accounts/revocations.py)",
    "limit": "web/limits.py: requests per endpoint from one address and from everyone",
    "join-key": "web/tickets_api.py: a join's Idempotency-Key -> the token minted for it (10 min)",
    "call": "signaling/presence.py: who of a live call is connected",
    "conn": "signaling/hub.py: connection generations per party (presence's drop reads them)",
    "bus": "signaling/bus.py: pub/sub channels, one per connected party",
    "call-events": "queue/call_events.py: the call side's event stream (the recorder reads it)",
    "session": "records/sessions.py: the live state of a call's record",
    "agent-session": "records/sessions.py: an agent's latest session",
    "verdict": "records/verdicts.py: check verdicts, live copy",
    "check": "check/keys.py: watched check states, live check owners, relay channels",
    # Redis-era records (read once by `signlink db import-redis`, records/import_redis.py).
    "rec": "records/import_redis.py",
}  # fmt: skip

_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Keyspace:
    """The names of one deployment. `hash_tag` puts the whole deployment in one Cluster slot."""

    prefix: str = "signlink"
    hash_tag: bool = False

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ConfigError(
                f"SIGNLINK_REDIS_PREFIX must be 1-64 letters, digits, '_', '.' or '-', got {self.prefix!r}"
            )

    @property
    def root(self) -> str:
        """What every key starts with: `signlink`, or `{signlink}` with the hash tag."""
        return f"{{{self.prefix}}}" if self.hash_tag else self.prefix

    def key(self, owner: str, *parts: str) -> str:
        """`<root>:<owner>:<parts...>`; the owner must be one of OWNERS."""
        if owner not in OWNERS:
            raise ValueError(f"no key owner {owner!r} in signlink.redisio.keyspace.OWNERS")
        return ":".join((self.root, owner, *parts))


def as_keyspace(keys: Keyspace | str, *, cluster: bool = False) -> Keyspace:
    """Stores take a Keyspace; a bare prefix (older callers) becomes one, tagged on a Cluster client."""
    return keys if isinstance(keys, Keyspace) else Keyspace(keys, hash_tag=cluster)


def keyspace_for(settings: Settings, *, cluster: bool) -> Keyspace:
    """The deployment's keyspace: the prefix, hash-tagged on Cluster or when the settings ask for it."""
    return Keyspace(settings.redis_prefix, hash_tag=settings.redis_hash_tag or cluster)
