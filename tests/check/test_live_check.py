"""The live check end to end: a real aiortc peer plays a clip into POST /api/checks (loopback ICE)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.asyncio import Redis

from signlink.config import Settings
from signlink.records.verdicts import VerdictStore
from tests.check.conftest import App
from tests.check.whip_client import (
    NO_HANDS_CLIP,
    EncodedClip,
    Publication,
    clip_spec,
    events,
    final_verdict,
    offer_of,
    peer_with,
)

Publisher = Callable[[App, EncodedClip], Awaitable[Publication]]
StartApp = Callable[..., Awaitable[App]]


def criterion(verdict: dict[str, object], name: str) -> dict[str, object]:
    criteria = verdict["criteria"]
    assert isinstance(criteria, list)
    found: dict[str, object] = next(c for c in criteria if c["criterion"] == name)
    return found


async def test_a_signer_with_hands_in_view_passes(
    start_app: StartApp, publisher: Publisher, good_clip: EncodedClip
) -> None:
    app = await start_app()
    publication = await publisher(app, good_clip)
    assert publication.url.startswith(str(app.make_url("/api/checks/")))
    assert "x-google-start-bitrate" in publication.answer

    verdict, feedback = await final_verdict(app.session, publication.events_url)

    assert verdict["passed"] is True
    assert verdict["outcome"] == "passed"
    assert verdict["complete"] is True
    assert criterion(verdict, "hands")["status"] == "pass"
    assert feedback >= 1
    async with app.get(f"/api/verdicts/{verdict['verdict_id']}") as response:
        assert response.status == 200
        record = await response.json()
    assert record["passed"] is True and record["outcome"] == "passed"
    assert record["criteria"]["hands"]["status"] == "pass"
    assert record["metrics"]["width"] == good_clip.width


async def test_no_hands_in_view_fails_on_the_hands_criterion_at_the_timeout(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_timeout_s=4.0)
    publication = await publisher(app, no_hands_clip)

    verdict, _ = await final_verdict(app.session, publication.events_url)

    assert verdict["passed"] is False
    assert verdict["outcome"] == "timed_out"
    hands = criterion(verdict, "hands")
    assert hands["status"] == "fail"
    assert hands["value"] == 0.0
    message = hands["message"]
    assert isinstance(message, dict) and message["en"] and message["zh-CN"]


async def test_feedback_streams_the_live_state_and_a_late_subscriber_gets_the_verdict(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_timeout_s=2.5)
    publication = await publisher(app, no_hands_clip)
    feedback: list[dict[str, object]] = []
    async for name, data in events(app.session, publication.events_url):
        if name == "verdict":
            break
        feedback.append(data)
    assert {f["state"] for f in feedback} >= {"analysing"}
    last = feedback[-1]
    assert {"criteria", "elapsed_s", "timeout_s", "frames_received", "frames_analysed"} <= last.keys()
    assert isinstance(last["frames_analysed"], int) and last["frames_analysed"] > 0
    elapsed = [float(str(f["elapsed_s"])) for f in feedback]
    assert elapsed == sorted(elapsed)

    late = [name async for name, _ in events(app.session, publication.events_url)]
    assert late == ["verdict"]


async def test_the_customer_can_continue_despite_a_failed_check(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_timeout_s=2.0)
    publication = await publisher(app, no_hands_clip)
    verdict, _ = await final_verdict(app.session, publication.events_url)

    async with app.post(f"/api/verdicts/{verdict['verdict_id']}/continue") as response:
        assert response.status == 200
        record = await response.json()
    assert record["continued_despite_failure"] is True
    async with app.get(f"/api/verdicts/{verdict['verdict_id']}") as response:
        assert (await response.json())["continued_despite_failure"] is True


async def test_a_passed_check_cannot_be_continued_despite_failure(
    start_app: StartApp, publisher: Publisher, good_clip: EncodedClip
) -> None:
    app = await start_app()
    verdict, _ = await final_verdict(app.session, (await publisher(app, good_clip)).events_url)
    async with app.post(f"/api/verdicts/{verdict['verdict_id']}/continue") as response:
        assert response.status == 409
        assert (await response.json())["error"] == "conflict"


async def test_delete_ends_the_check_and_frees_the_slot(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_max_concurrent=1)
    first = await publisher(app, no_hands_clip)

    async with app.session.delete(first.url) as response:
        assert response.status == 204

    second = await publisher(app, no_hands_clip)  # the slot is free again
    verdict, _ = await final_verdict(app.session, first.events_url)
    assert verdict["outcome"] == "ended_by_client"
    assert verdict["passed"] is False
    async with app.session.delete(second.url) as response:
        assert response.status == 204


async def test_a_client_that_closes_its_peer_without_delete_frees_the_slot(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_max_concurrent=1)
    first = await publisher(app, no_hands_clip)
    async for name, data in events(app.session, first.events_url):
        if name == "feedback" and data["state"] == "analysing":
            break

    await first.pc.close()
    verdict, _ = await final_verdict(app.session, first.events_url)

    assert verdict["outcome"] == "ended_by_client"
    await publisher(app, no_hands_clip)  # the slot is free again


async def test_a_browser_that_vanishes_frees_its_slot(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip, media: Path, clip_cache: Path
) -> None:
    """A publisher in its own process is killed with SIGKILL: no BYE, no DTLS close, no DELETE."""
    app = await start_app(check_max_concurrent=1)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.check.whip_client",
        str(app.make_url("/api/checks")),
        *clip_spec(media, NO_HANDS_CLIP).args(),
        "--cache",
        str(clip_cache),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = (await process.stdout.readline()).decode().strip()
        assert url.startswith("http"), "the publisher did not start"
        async for name, data in events(app.session, f"{url}/events"):
            if name == "feedback" and data["state"] == "analysing":
                break
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()

    verdict, _ = await final_verdict(app.session, f"{url}/events")

    assert verdict["outcome"] == "ended_by_client"
    assert "no video" in str(verdict["reason"]) or "connection" in str(verdict["reason"])
    await publisher(app, no_hands_clip)  # the slot is free again


async def test_a_client_that_never_connects_ends_as_no_media_and_is_not_recorded(
    start_app: StartApp, redis: Redis, settings: Settings
) -> None:
    app = await start_app(check_timeout_s=1.0)
    from aiortc import VideoStreamTrack

    pc = peer_with(VideoStreamTrack())  # offers, but never applies the answer: no ICE, no video
    try:
        body = await offer_of(pc)
        async with app.post(
            "/api/checks", data=body, headers={"Content-Type": "application/sdp"}
        ) as response:
            assert response.status == 201
            url = response.headers["Location"]
        verdict, _ = await final_verdict(app.session, str(app.make_url(f"{url}/events")))
    finally:
        await pc.close()
    # A connection fault, not a camera verdict: nothing was seen, so nothing is kept for 90 days.
    assert verdict["outcome"] == "no_media"
    assert verdict["passed"] is False and verdict["complete"] is False
    assert verdict["verdict_id"] is None
    assert [key async for key in redis.scan_iter(match=f"{settings.redis_prefix}:verdict:*")] == []


async def test_shutting_down_ends_live_checks_and_records_them(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip, redis: Redis, settings: Settings
) -> None:
    app = await start_app()
    publication = await publisher(app, no_hands_clip)
    stream = events(app.session, publication.events_url)
    async for name, data in stream:  # a check that has seen video (one that has not is never recorded)
        assert name == "feedback"
        if data["state"] == "analysing":
            break

    await app.server.close()  # runs on_shutdown and the cleanup contexts

    names = [name async for name, _ in stream]
    assert names[-1] == "verdict"
    keys = [key async for key in redis.scan_iter(match=f"{settings.redis_prefix}:verdict:*")]
    assert len(keys) == 1
    store = VerdictStore(redis, settings.redis_prefix, settings.verdict_ttl_s)
    record = await store.get(keys[0].decode().rsplit(":", 1)[1])
    assert record.outcome.value == "interrupted"
