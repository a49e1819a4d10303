"""Limits for anonymous endpoints (tickets, ratings, checks): per client address and for everyone,
counted in Redis so they hold across every process. Over a limit: 429 with Retry-After.

Keys (the only code that knows them; named by the Redis seam's Keyspace, so one Cluster slot):
    <root>:limit:<endpoint>:addr:<address>   requests from one address in the current window
    <root>:limit:<endpoint>:all              requests from everyone in the current window
Addresses are those login limits use (IPv6 by /64): `web.auth.client_address`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from redis.exceptions import RedisError

from signlink.config import Settings
from signlink.errors import BackendUnavailable, RateLimited
from signlink.redisio import Keyspace, RedisClient, load
from signlink.web.auth import client_address

log = logging.getLogger(__name__)

WINDOW_S = 60
_LIMIT = load("signlink.web.lua", "limit")


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
    def __init__(self, redis: RedisClient, keys: Keyspace, settings: Settings) -> None:
        self._redis = redis
        self._keys = keys
        self._limits = limits_of(settings)

    def keys_for(self, endpoint: str, address: str) -> list[str]:
        key = self._keys.key
        return [key("limit", endpoint, "addr", address[:64]), key("limit", endpoint, "all")]

    async def take(self, endpoint: str, address: str) -> None:
        """Count one request; RateLimited (429) when the address or everyone is over the limit."""
        limit = self._limits[endpoint]
        if not (limit.per_address or limit.overall):
            return
        try:
            retry = int(
                await _LIMIT(
                    self._redis,
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
