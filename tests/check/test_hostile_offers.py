"""Hostile WHIP offers against the real app: they cannot steer the server's UDP, nor leave a slot taken."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiortc import VideoStreamTrack

from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import EncodedClip, final_verdict, offer_of, peer_with

StartApp = Callable[..., Awaitable[App]]
SDP = {"Content-Type": "application/sdp"}


async def real_offer() -> str:
    pc = peer_with(VideoStreamTrack())
    try:
        return await offer_of(pc)
    finally:
        await pc.close()


def with_candidates(offer: str, lines: list[str]) -> str:
    """The offer with `lines` added after its own candidates in the video m-line."""
    head, _, tail = offer.partition("a=end-of-candidates")
    if not tail:
        head, tail = offer, ""
    added = "".join(f"{line}\r\n" for line in lines)
    return f"{head}{added}a=end-of-candidates{tail}" if tail else f"{head}{added}"


def cand(host: str, port: int, n: int = 1) -> str:
    return f"a=candidate:x{n} 1 udp 2130706431 {host} {port} typ host"


def candidates_of(sdp: str) -> list[list[str]]:
    return [line.split() for line in sdp.splitlines() if line.startswith("a=candidate:")]


async def post(app: App, body: str) -> tuple[int, dict[str, object] | str, str | None]:
    async with app.post("/api/checks", data=body, headers=SDP) as response:
        if response.content_type == "application/json":
            return response.status, await response.json(), None
        return response.status, await response.text(), response.headers.get("Location")


async def test_2000_candidates_are_refused_before_anything_starts(start_app: StartApp) -> None:
    app = await start_app(check_max_offer_bytes=256 * 1024)  # the size limit alone would stop this one
    body = with_candidates(await real_offer(), [cand("10.9.0.1", 1024 + i, i) for i in range(2000)])
    status, error, _ = await post(app, body)
    assert status == 400
    assert isinstance(error, dict) and error["error"] == "too_many_candidates"
    assert app.app[keys.CHECKS].live_count == 0


async def test_a_port_above_65535_is_400_not_a_crash(start_app: StartApp) -> None:
    app = await start_app()
    status, error, _ = await post(app, with_candidates(await real_offer(), [cand("10.9.0.1", 70000)]))
    assert status == 400
    assert isinstance(error, dict) and error["error"] == "bad_candidate" and "70000" in str(error["message"])
    assert app.app[keys.CHECKS].live_count == 0


async def test_multicast_and_port_zero_are_400(start_app: StartApp) -> None:
    app = await start_app()
    for line in (cand("239.1.2.3", 5000), cand("10.9.0.1", 0)):
        status, error, _ = await post(app, with_candidates(await real_offer(), [line]))
        assert status == 400 and isinstance(error, dict) and error["error"] == "bad_candidate"


async def test_candidates_outside_the_policy_never_reach_the_servers_ice_agent(start_app: StartApp) -> None:
    """An operator allowing only public addresses: a private and a documentation address are dropped."""
    app = await start_app(check_remote_networks=("public",))
    body = with_candidates(await real_offer(), [cand("10.9.0.1", 5000, 7), cand("192.0.2.9", 5001, 8)])
    status, _, location = await post(app, body)
    assert status == 201 and location
    session = app.app[keys.CHECKS].get(location.rsplit("/", 1)[1])
    remote = session.remote_candidate_addresses()
    assert remote, "the client's own loopback candidate stays (the server gathers on loopback)"
    assert "10.9.0.1" not in remote and "192.0.2.9" not in remote
    async with app.delete(location) as response:
        assert response.status == 204


async def test_the_answer_names_only_the_configured_addresses_and_video_flows(
    start_app: StartApp, good_clip: EncodedClip
) -> None:
    from tests.check.whip_client import ClipTrack, publish

    app = await start_app(check_ice_addresses=("127.0.0.2",))
    publication = await publish(app.session, str(app.make_url("/api/checks")), ClipTrack(good_clip))
    try:
        addresses = {fields[4] for fields in candidates_of(publication.answer)}
        assert addresses == {"127.0.0.2"}
        verdict, _ = await final_verdict(app.session, publication.events_url)
        assert verdict["outcome"] == "passed"
    finally:
        await publication.pc.close()


async def test_an_answer_without_any_candidate_is_503_with_the_reason(start_app: StartApp) -> None:
    app = await start_app(check_ice_addresses=("192.0.2.1",))  # not an address of this host
    pc = peer_with(VideoStreamTrack())
    try:
        status, error, _ = await post(app, await offer_of(pc))
        assert status == 503
        assert isinstance(error, dict) and error["error"] == "no_ice_candidate"
        assert "SIGNLINK_CHECK_ICE_ADDRESSES" in str(error["message"])
        assert app.app[keys.CHECKS].live_count == 0
        assert pc.remoteDescription is None
    finally:
        await pc.close()
