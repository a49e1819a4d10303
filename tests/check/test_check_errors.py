"""Every refusal of the check endpoints: status, JSON error body, and that nothing is left running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiortc import VideoStreamTrack

from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import EncodedClip, Publication, offer_of, peer_with

Publisher = Callable[[App, EncodedClip], Awaitable[Publication]]
StartApp = Callable[..., Awaitable[App]]
SDP = {"Content-Type": "application/sdp"}


async def a_real_offer(*, video: bool = True, audio: bool = False) -> str:
    pc = peer_with(VideoStreamTrack() if video else None, audio=audio)
    try:
        return await offer_of(pc)
    finally:
        await pc.close()


async def post_offer(
    app: App, body: str | bytes, headers: dict[str, str] = SDP
) -> tuple[int, dict[str, object]]:
    async with app.post("/api/checks", data=body, headers=headers) as response:
        assert response.content_type == "application/json"
        error: dict[str, object] = await response.json()
        assert set(error) == {"error", "message"}
        return response.status, error


@pytest.mark.parametrize("body", ["", "hello", "v=0\r\nm=video x\r\n"])
async def test_malformed_sdp_is_400_with_the_reason(start_app: StartApp, body: str) -> None:
    app = await start_app()
    status, error = await post_offer(app, body)
    assert (status, error["error"]) == (400, "malformed_sdp")
    assert "malformed SDP offer" in str(error["message"])


async def test_an_offer_that_is_not_utf8_is_malformed(start_app: StartApp) -> None:
    app = await start_app()
    status, error = await post_offer(app, b"v=0\r\n\xff\xfe")
    assert (status, error["error"]) == (400, "malformed_sdp")


async def test_an_audio_only_offer_is_400_no_video(start_app: StartApp) -> None:
    app = await start_app()
    status, error = await post_offer(app, await a_real_offer(video=False, audio=True))
    assert (status, error["error"]) == (400, "no_video")
    assert app.app[keys.CHECKS].live_count == 0


async def test_audio_beside_video_is_answered_inactive(start_app: StartApp) -> None:
    app = await start_app()
    async with app.post("/api/checks", data=await a_real_offer(audio=True), headers=SDP) as response:
        assert response.status == 201
        answer = await response.text()
        location = response.headers["Location"]
    audio = answer[answer.index("m=audio") :]
    assert "a=inactive" in audio.split("m=", 2)[1]
    video = answer[answer.index("m=video") : answer.index("m=audio")]
    assert "a=recvonly" in video
    async with app.delete(location) as response:
        assert response.status == 204


async def test_a_wrong_content_type_is_415(start_app: StartApp) -> None:
    app = await start_app()
    status, error = await post_offer(app, await a_real_offer(), {"Content-Type": "application/json"})
    assert (status, error["error"]) == (415, "unsupported_media_type")
    assert "application/sdp" in str(error["message"])


async def test_an_offer_over_the_size_limit_is_413(start_app: StartApp) -> None:
    app = await start_app(check_max_offer_bytes=1024)
    offer = await a_real_offer()
    assert len(offer) > 1024
    status, error = await post_offer(app, offer)
    assert (status, error["error"]) == (413, "offer_too_large")

    async def chunked() -> object:  # no Content-Length: the limit holds while reading
        for _ in range(3):
            yield offer.encode()

    async with app.post("/api/checks", data=chunked(), headers=SDP) as response:
        assert response.status == 413


async def test_beyond_the_concurrency_limit_is_503_with_retry_after(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_max_concurrent=1, check_timeout_s=20)
    await publisher(app, no_hands_clip)
    async with app.post("/api/checks", data=await a_real_offer(), headers=SDP) as response:
        assert response.status == 503
        retry_after = int(response.headers["Retry-After"])
        body = await response.json()
    assert 1 <= retry_after <= 20
    assert body["error"] == "overloaded"
    assert app.app[keys.CHECKS].live_count == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/checks/nope/events"),
        ("DELETE", "/api/checks/nope"),
        ("GET", "/api/verdicts/nope"),
        ("POST", "/api/verdicts/nope/continue"),
    ],
)
async def test_unknown_ids_are_404(start_app: StartApp, method: str, path: str) -> None:
    app = await start_app()
    async with app.request(method, path) as response:
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"


async def test_trickle_and_ice_restart_are_not_supported(start_app: StartApp) -> None:
    app = await start_app()
    async with app.post("/api/checks", data=await a_real_offer(), headers=SDP) as response:
        location = response.headers["Location"]
    async with app.patch(
        location, data="a=candidate:1", headers={"Content-Type": "application/trickle-ice-sdpfrag"}
    ) as r:
        assert r.status == 405
    async with app.delete(location) as response:
        assert response.status == 204


async def test_an_offer_aiortc_cannot_take_is_400_and_frees_its_slot(start_app: StartApp) -> None:
    app = await start_app()
    # Only H264 High profile: the names pass the first check, aiortc finds no codec it can decode.
    pc = peer_with(None)
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")  # every codec aiortc has
    try:
        offer = (await offer_of(pc)).replace("VP8/90000", "AV1/90000")
    finally:
        await pc.close()
    assert "H264/90000" in offer
    offer = offer.replace("profile-level-id=42001f", "profile-level-id=640c1f")
    offer = offer.replace("profile-level-id=42e01f", "profile-level-id=640c1f")
    status, error = await post_offer(app, offer)
    assert (status, error["error"]) == (400, "offer_rejected")
    assert app.app[keys.CHECKS].live_count == 0
