"""Ended logins, as they happen: every process hears which staff logins were revoked (Redis pub/sub).

AccountStore publishes "<username> <session digest>" (one login: logout) or "<username> *" (all of them:
disabled, new password) on its `revoked` channel. `RevocationFeed` listens on its own connection and
hands each one to a callback that closes the matching sockets at once. A message missed while Redis
was away is caught by the holder's periodic check of its sessions (web/logins.py). On Redis Cluster the
channel carries the deployment's hash tag and uses sharded pub/sub (SSUBSCRIBE / SPUBLISH), like the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from signlink.deadline import stop_task
from signlink.redisio import RedisClient, is_cluster
from signlink.redisio.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Revocation:
    username: str
    session_digest: str | None  # None: every login of the account

    def covers(self, username: str, digest: str) -> bool:
        return username == self.username and self.session_digest in (None, digest)


def parse(data: bytes | str) -> Revocation | None:
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    username, _, digest = text.partition(" ")
    if not username or not digest:
        return None
    return Revocation(username, None if digest == "*" else digest)


class RevocationFeed:
    def __init__(self, redis: RedisClient, channel: str, on_revoked: Callable[[Revocation], None]) -> None:
        self._redis = redis
        self._sharded = is_cluster(redis)
        self._channel = channel
        self._on_revoked = on_revoked
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # subscribed (again) after a start or a reconnect

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="login-revocations")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task, "the revocation feed")

    def _deliver(self, revocation: Revocation) -> None:
        try:
            self._on_revoked(revocation)
        except Exception:
            log.exception("closing the sockets of an ended login of %s failed", revocation.username)

    async def _run(self) -> None:
        failing, backoff = False, Backoff()
        while True:
            pubsub = self._redis.pubsub()
            try:
                if self._sharded:
                    await pubsub.ssubscribe(self._channel)
                else:
                    await pubsub.subscribe(self._channel)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind in ("subscribe", "ssubscribe"):
                        self.ready.set()
                        backoff.reset()
                        if failing:
                            log.info("login revocations heard again")
                            failing = False
                    elif kind in ("message", "smessage"):
                        revocation = parse(message.get("data", b""))
                        if revocation is not None:
                            self._deliver(revocation)
            except (RedisError, OSError) as exc:
                self.ready.clear()
                if not failing:
                    log.warning("login revocations not heard (%s); retrying", exc)
                failing = True
                await asyncio.sleep(backoff.pause())
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
