"""The bad cases of tests/quality/encoded.py through WHIP: a real aiortc peer sends the encoder's packets.

Each bad clip fails the live check on its own criteria with its own advice (nothing else fails); a
still but live person passes; a camera that freezes after a good start is caught by the waiting
room's watch. The clips go out as ffmpeg's libvpx/libx264 made them (tests/check/derived.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from signlink.check.keys import CheckKeys
from signlink.check.latest import LatestStates
from signlink.config import Settings
from signlink.quality.messages import Reason, message
from signlink.quality.thresholds import DEFAULT_THRESHOLDS as T
from signlink.quality.verdict import Criterion
from signlink.web import keys
from tests.check.conftest import App
from tests.check.derived import derived_clip
from tests.check.whip_client import ClipTrack, EncodedClip, Publication, events, final_verdict, publish
from tests.quality.encoded import BAD, GOOD, SIGNER, Recipe, frozen_after

Publisher = Callable[[App, EncodedClip], Awaitable[Publication]]
StartApp = Callable[..., Awaitable[App]]
# A bad clip never passes, so the check runs to its timeout: the freeze needs 2 s of pictures
# (freeze_span_s) after the first 0.5 s pair (motion_lag_s), plus slack for a busy machine.
BAD_TIMEOUT_S = 5.0
LIVE_BAD = [
    "frozen from the first frame, VP8",
    "frozen from the first frame, x264",
    "tiny signer (5% of the frame)",
]
QUICK_WATCH = {"check_watch_window_s": 1.0, "check_watch_analysis_fps": 8.0}


@pytest.fixture(scope="session")
def derived(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Recipe], EncodedClip]:
    folder = tmp_path_factory.mktemp("whip-clips")
    return lambda recipe: derived_clip(media, recipe, folder)


def failing_advice(verdict: dict[str, object]) -> dict[str, object]:
    criteria = verdict["criteria"]
    assert isinstance(criteria, list)
    return {c["criterion"]: c["advice"] for c in criteria if c["status"] == "fail"}


def result(verdict: dict[str, object], name: Criterion) -> dict[str, object]:
    criteria = verdict["criteria"]
    assert isinstance(criteria, list)
    found: dict[str, object] = next(c for c in criteria if c["criterion"] == name.value)
    return found


def assert_fails_with(verdict: dict[str, object], expected: dict[Criterion, Reason]) -> None:
    assert verdict["passed"] is False and verdict["complete"] is True, verdict
    assert verdict["outcome"] == "timed_out"
    assert failing_advice(verdict) == {c.value: r.key for c, r in expected.items()}
    for criterion, reason in expected.items():
        assert result(verdict, criterion)["message"] == message(reason)


@pytest.mark.slow
@pytest.mark.parametrize("name", LIVE_BAD)
async def test_a_bad_clip_fails_the_live_check_on_its_criteria_with_its_advice(
    start_app: StartApp, publisher: Publisher, derived: Callable[[Recipe], EncodedClip], name: str
) -> None:
    recipe, expected = BAD[name]
    clip = derived(recipe)
    app = await start_app(check_timeout_s=BAD_TIMEOUT_S)
    publication = await publisher(app, clip)

    verdict, _ = await final_verdict(app.session, publication.events_url)

    assert_fails_with(verdict, expected)
    assert verdict["metrics"]["width"] == clip.width  # type: ignore[index]
    if Criterion.FROZEN in expected:
        frozen = result(verdict, Criterion.FROZEN)
        assert isinstance(frozen["value"], float) and frozen["value"] < T.frozen_motion


async def test_a_still_but_live_person_passes(
    start_app: StartApp, publisher: Publisher, derived: Callable[[Recipe], EncodedClip]
) -> None:
    """Grain and breathing on a held picture: above codec noise, so not called frozen."""
    app = await start_app()
    publication = await publisher(app, derived(GOOD["still but live (grain, breathing), VP8 600 kbps"]))

    verdict, _ = await final_verdict(app.session, publication.events_url)

    assert verdict["outcome"] == "passed", failing_advice(verdict)
    frozen = result(verdict, Criterion.FROZEN)
    assert frozen["status"] == "pass"
    assert isinstance(frozen["value"], float) and frozen["value"] >= T.frozen_motion


@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_low_bitrate_fails_on_compression_with_the_senders_report(
    start_app: StartApp, publisher: Publisher, derived: Callable[[Recipe], EncodedClip], codec: str
) -> None:
    """110 kbps at 640x480, the page posting its getStats (110 kbps, limited by bandwidth) each second.

    The pixels alone do not hold it: VP8's loop filter smears instead of blocking, and x264 refines
    this near-still signer until its window's blockiness falls under the line 1.5 s in."""
    app = await start_app(check_timeout_s=BAD_TIMEOUT_S)
    clip = derived(Recipe(SIGNER, 2.0, codec, 110))
    assert clip.codec == {"vp8": "VP8", "h264": "H264"}[codec]
    publication = await publisher(app, clip)
    report = {"fps": 25.0, "bitrate_kbps": 110.0, "quality_limitation_reason": "bandwidth"}

    async def report_every_second() -> None:
        while True:
            async with app.session.post(f"{publication.url}/sender", json=report) as response:
                if response.status != 204:
                    return  # the check has ended
            await asyncio.sleep(1.0)

    reporting = asyncio.create_task(report_every_second())
    try:
        verdict, _ = await final_verdict(app.session, publication.events_url)
    finally:
        reporting.cancel()

    assert_fails_with(verdict, {Criterion.SHARPNESS: Reason.COMPRESSED})
    shown = result(verdict, Criterion.SHARPNESS)["message"]
    assert isinstance(shown, dict) and "connection" in shown["en"] and "lens" not in shown["en"]


@pytest.mark.slow
async def test_a_freeze_after_a_good_start_is_caught_by_the_waiting_rooms_watch(
    start_app: StartApp,
    good_clip: EncodedClip,
    derived: Callable[[Recipe], EncodedClip],
    redis: Redis,
    settings: Settings,
) -> None:
    app = await start_app(**QUICK_WATCH)
    check = await publish(app.session, str(app.make_url("/api/checks")), ClipTrack(good_clip))
    verdict, _ = await final_verdict(app.session, check.events_url)
    await check.pc.close()
    assert verdict["outcome"] == "passed"
    verdict_id = str(verdict["verdict_id"])

    # In the waiting room the camera freezes 1.5 s in (and stays frozen: the clip is long).
    frozen_clip = derived(Recipe(SIGNER, 9.0, "vp8", 600, change=frozen_after(1.5)))
    watch = await publish(
        app.session, str(app.make_url(f"/api/checks?watch={verdict_id}")), ClipTrack(frozen_clip)
    )
    seen: list[tuple[str, object]] = []  # (frozen status, advice) of each complete window, in order
    try:
        deadline = time.monotonic() + 60
        async for name, data in events(app.session, watch.events_url):
            assert time.monotonic() < deadline, seen
            if name != "feedback" or not data.get("complete"):
                continue
            frozen = result(data, Criterion.FROZEN)
            seen.append((str(frozen["status"]), frozen["advice"]))
            if frozen["status"] == "fail":
                assert frozen["advice"] == Reason.FROZEN.key
                assert frozen["message"] == message(Reason.FROZEN)
                break
        assert seen[0][0] == "pass", seen  # live at first: the freeze is seen when it happens
        store = LatestStates(redis, CheckKeys(app.app[keys.QUEUE].keys), settings.check_watch_ttl_s)
        latest = await store.get(verdict_id)
        assert latest is not None and "frozen" in latest.failing  # what the agent's offer will show
    finally:
        async with app.session.delete(watch.url) as response:
            assert response.status == 204
        await watch.pc.close()
