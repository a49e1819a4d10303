"""Anonymous endpoints are limited per address and overall, in Redis (so across processes): 429."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web.app import create_app

App = TestClient[Any, Any]


async def test_tickets_from_one_address_are_limited_across_processes(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    limited = settings.replace(limit_tickets_per_address=3)
    first: App = await aiohttp_client(create_app(limited))
    second: App = await aiohttp_client(create_app(limited))
    statuses = []
    for app in (first, second, first, second):
        response = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})
        statuses.append(response.status)
    assert statuses[:3] == [422, 422, 422]  # nobody serves ASL: refused, but counted
    assert statuses[3] == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert (await response.json())["error"] == "rate_limited"
    # Ratings have their own counter.
    rating = await first.post("/api/ratings", json={"token": "x" * 43, "score": 5})
    assert rating.status == 404


async def test_the_overall_limit_holds_for_everyone(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    app: App = await aiohttp_client(create_app(settings.replace(limit_ratings_overall=2)))
    statuses = [
        (await app.post("/api/ratings", json={"token": "x" * 43, "score": 5})).status for _ in range(3)
    ]
    assert statuses == [404, 404, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    proxied = settings.replace(limit_ratings_per_address=1, trusted_proxies=("127.0.0.1",))
    app: App = await aiohttp_client(create_app(proxied))

    async def rate(forwarded: str) -> int:
        body = {"token": "x" * 43, "score": 5}
        response = await app.post("/api/ratings", json=body, headers={"X-Forwarded-For": forwarded})
        return response.status

    # The proxy appends the client it saw; a hop the client wrote itself (first) does not count.
    assert [await rate("10.0.0.1"), await rate("9.9.9.9, 10.0.0.2")] == [404, 404]
    assert await rate("10.0.0.2") == 429  # the same client again
    untrusted: App = await aiohttp_client(create_app(settings.replace(limit_ratings_per_address=1)))
    statuses = [
        (
            await untrusted.post(
                "/api/ratings", json={"token": "x" * 43, "score": 5}, headers={"X-Forwarded-For": f}
            )
        ).status
        for f in ("10.0.0.3", "10.0.0.4")
    ]
    assert statuses == [404, 429]  # without a trusted proxy the header is ignored
