"""/healthz: is this process able to serve? Redis down means "degraded", not dead.

Redis answering a PING is not enough after a restart: the connections that listen (the bus, login
revocations, the queue event feed) come back a little later, and until they do a message for a socket
here reaches nobody. Each registers a readiness check (`watch`); 200 only when all of them hold.
PostgreSQL down or the recorder far behind is "degraded" too, but 200: the live path (check, queue,
calls) still works and the records catch up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.errors import BackendUnavailable
from signlink.web import keys

log = logging.getLogger(__name__)


@dataclass
class Health:
    redis_ok: bool = True
    redis_error: str = ""
    checked_at: float = 0.0
    listeners: dict[str, Callable[[], bool]] = field(default_factory=dict)

    def watch(self, name: str, ready: Callable[[], bool]) -> None:
        """Count `ready()` in /healthz (a listening connection of this process)."""
        self.listeners[name] = ready

    def unwatch(self, name: str) -> None:
        self.listeners.pop(name, None)

    def listening(self) -> dict[str, bool]:
        return {name: ready() for name, ready in self.listeners.items()}

    async def probe(self, redis: Redis) -> None:
        try:
            await asyncio.wait_for(redis.ping(), timeout=1.0)
        except (RedisError, OSError, TimeoutError) as exc:
            if self.redis_ok:
                log.warning("Redis unreachable: %s", exc)
            self.redis_ok, self.redis_error = False, str(exc) or type(exc).__name__
        else:
            if not self.redis_ok:
                log.info("Redis reachable again")
            self.redis_ok, self.redis_error = True, ""
        self.checked_at = time.time()


async def healthz(request: web.Request) -> web.Response:
    health = request.app[keys.HEALTH]
    await health.probe(request.app[keys.REDIS])
    listening = health.listening()
    ok = health.redis_ok and all(listening.values())
    body: dict[str, object] = {"status": "ok" if ok else "degraded", "redis": health.redis_ok, **listening}
    if not health.redis_ok:
        body["redis_error"] = health.redis_error
    if keys.DATABASE in request.app:
        db = request.app[keys.DATABASE]
        database_ok = await db.healthy()
        body["database"] = database_ok
        if not database_ok:
            body["status"] = "degraded"
            body["database_error"] = f"PostgreSQL unreachable: {db.last_error or 'no answer'}"
        recorder = request.app[keys.RECORDER]
        try:
            behind = (await recorder.lag()).behind
        except BackendUnavailable:
            behind = recorder.behind  # Redis away: said above
        body["recorder_behind_events"] = behind
        if behind > recorder.lag_alarm or recorder.trimmed:
            body["status"] = "degraded"
            body["recorder_error"] = (
                f"the recorder is {behind} events behind ({recorder.trimmed} lost to the stream cap)"
            )
    return web.json_response(body, status=200 if ok else 503)
