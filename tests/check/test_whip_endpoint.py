"""The WHIP endpoint as RFC 9725 clients see it: OPTIONS and CORS, ICE-server Link headers, slots, limits."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable

from aiortc import VideoStreamTrack
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.ice import turn_credentials
from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import final_verdict, offer_of, peer_with

StartApp = Callable[..., Awaitable[App]]
SDP = {"Content-Type": "application/sdp"}
PARTNER = "https://partner.example"  # a WHIP client page on another site, allowed by the operator


async def an_offer() -> str:
    pc = peer_with(VideoStreamTrack())
    try:
        return await offer_of(pc)
    finally:
        await pc.close()


async def test_options_says_what_it_accepts_and_answers_the_preflight_of_an_allowed_origin(
    start_app: StartApp,
) -> None:
    app = await start_app(allowed_origins=(PARTNER,))
    preflight = {
        "Origin": PARTNER,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with app.options("/api/checks", headers=preflight) as response:
        assert response.status == 204
        assert response.headers["Accept-Post"] == "application/sdp"
        assert response.headers["Access-Control-Allow-Origin"] == PARTNER
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    async with app.options(
        "/api/checks/some-id", headers={**preflight, "Access-Control-Request-Method": "DELETE"}
    ) as r:
        assert r.status == 204
        assert "DELETE" in r.headers["Access-Control-Allow-Methods"]


async def test_options_from_another_origin_gets_no_cors_grant(start_app: StartApp) -> None:
    app = await start_app(allowed_origins=(PARTNER,))
    async with app.options("/api/checks", headers={"Origin": "https://evil.example"}) as response:
        assert response.status == 204
        assert response.headers["Accept-Post"] == "application/sdp"
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_allowed_origin_on_another_site_can_post_and_read_the_location(start_app: StartApp) -> None:
    app = await start_app(allowed_origins=(PARTNER,))
    cross = {**SDP, "Origin": PARTNER, "Sec-Fetch-Site": "cross-site"}
    async with app.post("/api/checks", data=await an_offer(), headers=cross) as response:
        assert response.status == 201
        assert response.headers["Access-Control-Allow-Origin"] == PARTNER
        assert "Location" in response.headers["Access-Control-Expose-Headers"]
        location = response.headers["Location"]
    async with app.delete(location, headers={"Origin": PARTNER, "Sec-Fetch-Site": "cross-site"}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    evil = {**SDP, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    async with app.post("/api/checks", data=await an_offer(), headers=evil) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_answer_links_the_configured_turn_server_with_time_limited_credentials(
    start_app: StartApp,
) -> None:
    turn = "turn:turn.example.test:3478?transport=udp"
    app = await start_app(turn_urls=(turn,), turn_secret="s3cret", turn_ttl_s=600)
    async with app.post("/api/checks", data=await an_offer(), headers=SDP) as response:
        assert response.status == 201
        links = response.headers.getall("Link")
        location = response.headers["Location"]
    assert len(links) == 1
    link = links[0]
    assert link.startswith(f'<{turn}>; rel="ice-server"')
    params = dict(part.strip().split("=", 1) for part in link.split(";")[2:])
    username, credential = params["username"].strip('"'), params["credential"].strip('"')
    assert params["credential-type"] == '"password"'
    expiry, _, user = username.partition(":")
    assert user == f"check:{location.rsplit('/', 1)[1]}"
    assert turn_credentials("s3cret", user, 600, now=int(expiry) - 600) == (username, credential)
    async with app.delete(location) as response:
        assert response.status == 204


async def test_without_stun_or_turn_there_is_no_link_header(start_app: StartApp) -> None:
    app = await start_app()
    async with app.post("/api/checks", data=await an_offer(), headers=SDP) as response:
        assert response.status == 201
        assert "Link" not in response.headers
        location = response.headers["Location"]
    async with app.delete(location) as response:
        assert response.status == 204


async def test_a_post_that_brings_no_media_frees_its_slot_and_is_not_recorded(
    start_app: StartApp, redis: Redis, settings: Settings
) -> None:
    app = await start_app(check_max_concurrent=1, check_no_media_s=1.0, check_timeout_s=30.0)
    pc = peer_with(VideoStreamTrack())  # never applies the answer: no ICE, no video
    try:
        async with app.post("/api/checks", data=await offer_of(pc), headers=SDP) as response:
            assert response.status == 201
            location = response.headers["Location"]
        verdict, _ = await final_verdict(app.session, str(app.make_url(f"{location}/events")))
    finally:
        await pc.close()
    assert verdict["outcome"] == "no_media"
    assert "no video arrived" in str(verdict["reason"])
    assert verdict["verdict_id"] is None
    assert app.app[keys.CHECKS].live_count == 0
    assert [key async for key in redis.scan_iter(match=f"{settings.redis_prefix}:verdict:*")] == []
    async with app.post("/api/checks", data=await an_offer(), headers=SDP) as response:
        assert response.status == 201  # the slot is free again


async def test_live_checks_per_address_are_capped_with_429_and_retry_after(start_app: StartApp) -> None:
    app = await start_app(check_max_per_address=1, check_timeout_s=20.0, trusted_proxies=("127.0.0.1",))
    behind_proxy = {**SDP, "X-Forwarded-For": "198.51.100.7"}
    async with app.post("/api/checks", data=await an_offer(), headers=behind_proxy) as response:
        assert response.status == 201
        first = response.headers["Location"]
    async with app.post("/api/checks", data=await an_offer(), headers=behind_proxy) as response:
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 20
        assert (await response.json())["error"] == "overloaded"
    other = {**SDP, "X-Forwarded-For": "198.51.100.8"}
    async with app.post("/api/checks", data=await an_offer(), headers=other) as response:
        assert response.status == 201  # another customer behind the same balancer
        second = response.headers["Location"]
    for location in (first, second):
        async with app.delete(location) as response:
            assert response.status == 204


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(start_app: StartApp) -> None:
    app = await start_app(check_max_per_address=1, check_timeout_s=20.0)
    async with app.post(
        "/api/checks", data=await an_offer(), headers={**SDP, "X-Forwarded-For": "1.1.1.1"}
    ) as r:
        assert r.status == 201
        first = r.headers["Location"]
    async with app.post(
        "/api/checks", data=await an_offer(), headers={**SDP, "X-Forwarded-For": "2.2.2.2"}
    ) as r:
        assert r.status == 429  # both come from 127.0.0.1: a client cannot pick its own address
    async with app.delete(first) as response:
        assert response.status == 204


async def test_the_check_page_gets_turn_with_time_limited_credentials(start_app: StartApp) -> None:
    turn = "turn:turn.example.test:3478?transport=udp"
    app = await start_app(turn_urls=(turn,), turn_secret="s3cret", stun_urls=("stun:stun.example.test:3478",))
    async with app.get("/check") as response:
        assert response.status == 200
        page = await response.text()
    match = re.search(r'data-ice-servers="([^"]*)"', page)
    assert match is not None
    servers = json.loads(html.unescape(match.group(1)))
    assert servers[0] == {"urls": ["stun:stun.example.test:3478"]}
    assert servers[1]["urls"] == [turn]
    expiry, _, user = servers[1]["username"].partition(":")
    assert user.startswith("check-page:")
    assert turn_credentials("s3cret", user, 3600, now=int(expiry) - 3600)[1] == servers[1]["credential"]
