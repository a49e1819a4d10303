"""Limits for anonymous endpoints (tickets, ratings, checks): per client address and for everyone,
counted in Redis so they hold across every process. Over a limit: 429 with Retry-After.

Keys (the only code that knows them):
    {prefix}:limit:<endpoint>:addr:<address>   requests from one address in the current window
    {prefix}:limit:<endpoint>:all              requests from everyone in the current window
Addresses are those login limits use (IPv6 by /64): `web.auth.client_address`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.config import Settings
from signlink.errors import BackendUnavailable, RateLimited
from signlink.web.auth import client_address

log = logging.getLogger(__name__)

WINDOW_S = 60
_LUA = resources.files("signlink.web").joinpath("lua", "limit.lua").read_text("utf-8")


@dataclass(frozen=True)
class Limit:
    per_address: int  # per minute; 0 = none
    overall: int


def limits_of(settings: Settings) -> dict[str, Limit]:
    return {
        "tickets": Limit(settings.limit_tickets_per_address, settings.limit_tickets_overall),
        "ratings": Limit(settings.limit_ratings_per_address, settings.limit_ratings_overall),
        "checks": Limit(settings.limit_checks_per_address, settings.limit_checks_overall),
    }


class RequestLimits:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._prefix = f"{settings.redis_prefix}:limit"
        self._limits = limits_of(settings)
        self._script = redis.register_script(_LUA)

    def keys_for(self, endpoint: str, address: str) -> list[str]:
        return [f"{self._prefix}:{endpoint}:addr:{address[:64]}", f"{self._prefix}:{endpoint}:all"]

    async def take(self, endpoint: str, address: str) -> None:
        """Count one request; RateLimited (429) when the address or everyone is over the limit."""
        limit = self._limits[endpoint]
        if not (limit.per_address or limit.overall):
            return
        try:
            retry = int(
                await self._script(
                    keys=self.keys_for(endpoint, address),
                    args=[WINDOW_S, limit.per_address, limit.overall],
                )
            )
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot count requests: {exc}") from exc
        if retry:
            log.info("%s: %s over the limit; retry in %s s", endpoint, address, retry)
            raise RateLimited(f"too many {endpoint} requests: try again in {retry} s", retry_after_s=retry)


LIMITS = web.AppKey("request_limits", RequestLimits)


async def limit(request: web.Request, endpoint: str) -> None:
    """The call a handler makes first (tickets, ratings, checks)."""
    await request.app[LIMITS].take(endpoint, client_address(request))
