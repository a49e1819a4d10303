"""The waiting room's watch: observation continues after the verdict, the latest state reaches the offer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiortc import VideoStreamTrack
from redis.asyncio import Redis

from signlink.check.keys import CheckKeys
from signlink.check.latest import LatestState, LatestStates
from signlink.config import Settings
from signlink.records.verdicts import VerdictStore
from signlink.signaling.offers import check_summary, with_latest
from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import ClipTrack, EncodedClip, final_verdict, offer_of, peer_with, publish

StartApp = Callable[..., Awaitable[App]]
SDP = {"Content-Type": "application/sdp"}
# Fast enough for a test: the production watch judges 15 s windows at 0.5 analysed frames/s.
QUICK_WATCH = {"check_watch_window_s": 1.0, "check_watch_analysis_fps": 8.0}


async def latest_of(store: LatestStates, verdict_id: str, timeout_s: float = 60.0) -> LatestState:
    deadline = time.monotonic() + timeout_s
    while (state := await store.get(verdict_id)) is None:
        assert time.monotonic() < deadline, "the watch stored no state"
        await asyncio.sleep(0.2)
    return state


async def test_a_customer_who_moves_out_of_frame_after_passing_is_seen_in_the_offer(
    start_app: StartApp, good_clip: EncodedClip, no_hands_clip: EncodedClip, redis: Redis, settings: Settings
) -> None:
    app = await start_app(**QUICK_WATCH)
    check = await publish(app.session, str(app.make_url("/api/checks")), ClipTrack(good_clip))
    verdict, _ = await final_verdict(app.session, check.events_url)
    await check.pc.close()
    assert verdict["outcome"] == "passed"
    verdict_id = str(verdict["verdict_id"])

    # In the waiting room the customer's hands go out of view: the watch sees it.
    url = str(app.make_url(f"/api/checks?watch={verdict_id}"))
    watch = await publish(app.session, url, ClipTrack(no_hands_clip))
    try:
        assert "x-google-min-bitrate" not in watch.answer  # the sender caps a watch low on purpose
        store = LatestStates(redis, CheckKeys(app.app[keys.QUEUE].keys), settings.check_watch_ttl_s)
        latest = await latest_of(store, verdict_id)
        assert latest.passed is False
        assert "hands" in latest.failing
        assert latest.statuses["frame_rate"] == "not_measured"  # the capped stream does not re-judge it
        assert abs(latest.measured_epoch - time.time()) < 120

        record = await VerdictStore(redis, settings.redis_prefix, settings.verdict_ttl_s).get(verdict_id)
        offered = with_latest(check_summary(record), await store.get(verdict_id), time.time())
        assert offered.passed is False and "hands" in [f.criterion for f in offered.failing]
        wire = offered.to_wire()
        assert wire["measured_epoch"] == latest.measured_epoch and wire["measured_age_s"] >= 0
    finally:
        async with app.session.delete(watch.url) as response:
            assert response.status == 204
        await watch.pc.close()
    # The check's own verdict stands; the watch records no verdict of its own.
    assert len([k async for k in redis.scan_iter(match=f"{settings.redis_prefix}:verdict:*")]) == 1


async def test_watches_have_their_own_limit_and_do_not_take_check_slots(start_app: StartApp) -> None:
    app = await start_app(check_max_concurrent=1, check_watch_max_concurrent=1, check_timeout_s=20.0)

    async def post(path: str) -> tuple[int, str | None]:
        pc = peer_with(VideoStreamTrack())
        try:
            async with app.post(path, data=await offer_of(pc), headers=SDP) as response:
                return response.status, response.headers.get("Location")
        finally:
            await pc.close()

    status, watch = await post("/api/checks?watch=AAAAAAAAAAAAAAAAAAAAAA")
    assert status == 201 and watch
    assert (await post("/api/checks?watch=AAAAAAAAAAAAAAAAAAAAAA"))[0] == 429  # one watch per check
    assert (await post("/api/checks?watch=BBBBBBBBBBBBBBBBBBBBBB"))[0] == 503  # the process's watch limit
    status, check = await post("/api/checks")
    assert status == 201 and check  # the check slot is still free
    assert app.app[keys.CHECKS].watch_count == 1
    for location in (watch, check):
        async with app.delete(location) as response:
            assert response.status == 204


async def test_a_watch_needs_a_verdict_id(start_app: StartApp) -> None:
    app = await start_app()
    pc = peer_with(VideoStreamTrack())
    try:
        async with app.post("/api/checks?watch=../x", data=await offer_of(pc), headers=SDP) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "bad_field"
    finally:
        await pc.close()
