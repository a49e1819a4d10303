"""/healthz: is this process able to serve? Redis down means "degraded" (503); PostgreSQL down or the
recorder far behind means "degraded" too, but 200: the live path (check, queue, calls) still works."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

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
    body: dict[str, object] = {"status": "ok" if health.redis_ok else "degraded", "redis": health.redis_ok}
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
    return web.json_response(body, status=200 if health.redis_ok else 503)
