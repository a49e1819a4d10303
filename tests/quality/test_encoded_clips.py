"""The analyser on clips that went through real encoders (tests/quality/encoded.py).

Every good clip passes, early and with a margin; every bad one fails on exactly its own criteria,
each with its own advice, while observation goes on to the end of the clip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from signlink.quality.analyser import Analyser
from signlink.quality.messages import Reason, message
from signlink.quality.thresholds import DEFAULT_THRESHOLDS as T
from signlink.quality.verdict import Criterion, Status
from signlink.quality.window import SenderReport
from tests.quality.encoded import BAD, GOOD, MAY_ALSO_FAIL, EncodedClips, Recipe, feed

SIGNER = "videos/pose_signer_man_0.4s.mp4"


@pytest.mark.parametrize("name", GOOD)
def test_good_encoded_clip_passes_early_and_stays_good(
    analyser: Analyser, encoded: EncodedClips, name: str
) -> None:
    run = feed(analyser, encoded.get(GOOD[name]))
    assert run.first_pass_s is not None and run.first_pass_s <= 1.1, name
    last = run.verdict
    assert last.passed and last.complete, [(r.criterion, r.status, r.advice) for r in last.criteria]
    m = last.metrics
    # Margins, not the line (figures in thresholds.py's table).
    assert isinstance(m["motion"], float) and m["motion"] >= 2 * T.frozen_motion
    assert isinstance(m["signer_share"], float) and m["signer_share"] >= 1.3 * T.min_signer_share
    assert isinstance(m["blockiness"], float) and m["blockiness"] <= T.max_blockiness - 0.1


@pytest.mark.parametrize("name", BAD)
def test_bad_encoded_clip_fails_on_its_criteria_with_its_advice(
    analyser: Analyser, encoded: EncodedClips, name: str
) -> None:
    recipe, expected = BAD[name]
    run = feed(analyser, encoded.get(recipe))
    verdict = run.verdict
    assert verdict.complete and not verdict.passed
    failing = {r.criterion: r.advice for r in verdict.failing()}
    for criterion, reason in MAY_ALSO_FAIL.get(name, {}).items():
        if failing.get(criterion) == reason.key:
            del failing[criterion]
    assert failing == {criterion: reason.key for criterion, reason in expected.items()}
    for criterion, reason in expected.items():
        assert verdict.result(criterion).message == message(reason)


def test_frozen_from_the_start_never_passes(analyser: Analyser, encoded: EncodedClips) -> None:
    recipe, _ = BAD["frozen from the first frame, VP8"]
    run = feed(analyser, encoded.get(recipe))
    assert run.first_pass_s is None
    frozen = run.verdict.result(Criterion.FROZEN)
    assert frozen.value is not None and frozen.value < T.frozen_motion / 2  # margin below the line


def test_a_freeze_after_a_good_start_is_caught_while_watching(
    analyser: Analyser, encoded: EncodedClips
) -> None:
    recipe, _ = BAD["frozen after 1.5 s, VP8"]
    run = feed(analyser, encoded.get(recipe))
    assert run.first_pass_s is not None and run.first_pass_s <= 1.1  # good at first...
    caught = [t for t, v in run.verdicts if v.result(Criterion.FROZEN).status is Status.FAIL]
    assert caught and 2.0 <= caught[0] <= 3.6  # ...then frozen, within about 2 s of the freeze


def test_a_muted_track_is_a_stopped_camera_at_once(analyser: Analyser, encoded: EncodedClips) -> None:
    clip = encoded.get(GOOD["VP8 800 kbps"])
    for t, picture in clip[:30]:
        analyser.note_frame(t, picture.shape[1], picture.shape[0])
        if analyser.due(t):
            analyser.analyse(picture, t)
    analyser.add_sender_report(SenderReport(1.2, 0.0, 0.0, "none", 0.0, 30, True))
    frozen = analyser.verdict().result(Criterion.FROZEN)
    assert (frozen.status, frozen.advice) == (Status.FAIL, Reason.CAMERA_STOPPED.key)


def test_frames_encoded_not_advancing_is_a_stopped_camera(analyser: Analyser, encoded: EncodedClips) -> None:
    clip = encoded.get(GOOD["VP8 800 kbps"])
    for t, picture in clip[:30]:
        analyser.note_frame(t, picture.shape[1], picture.shape[0])
        if analyser.due(t):
            analyser.analyse(picture, t)
    analyser.add_sender_report(SenderReport(0.0, 25.0, 800.0, "none", 0.0, 100, False))
    analyser.add_sender_report(SenderReport(0.6, 25.0, 800.0, "none", 0.0, 115, False))
    assert analyser.verdict().result(Criterion.FROZEN).status is Status.PASS
    analyser.add_sender_report(SenderReport(1.7, 0.0, 0.0, "none", 0.0, 115, False))
    frozen = analyser.verdict().result(Criterion.FROZEN)
    assert (frozen.status, frozen.advice) == (Status.FAIL, Reason.CAMERA_STOPPED.key)


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_the_senders_low_bitrate_names_the_connection(
    analyser: Analyser, encoded: EncodedClips, codec: str
) -> None:
    """110 kbps at 640x480: VP8 smears rather than blocks (its loop filter hides the grid), so the
    pixels alone do not tell it reliably; the page's stats say how few bits it had."""
    clip = encoded.get(Recipe(SIGNER, 2.0, codec, 110))
    for t, picture in clip:
        analyser.note_frame(t, picture.shape[1], picture.shape[0])
        if analyser.due(t):
            analyser.analyse(picture, t)
            analyser.add_sender_report(SenderReport(t, 25.0, 110.0, "bandwidth", 0.0, None, False))
    sharpness = analyser.verdict().result(Criterion.SHARPNESS)
    assert (sharpness.status, sharpness.advice) == (Status.FAIL, Reason.COMPRESSED.key)
    assert "connection" in sharpness.message["en"] and "lens" not in sharpness.message["en"]


def test_low_frame_rate_from_a_congested_sender_names_the_connection(
    analyser: Analyser, encoded: EncodedClips
) -> None:
    recipe, _ = BAD["dim and slow (25% light, 10 fps)"]
    clip = encoded.get(recipe)
    for t, picture in clip:
        analyser.note_frame(t, picture.shape[1], picture.shape[0])
        if analyser.due(t):
            analyser.analyse(picture, t)
    analyser.add_sender_report(SenderReport(clip[-1][0], 10.0, 600.0, "bandwidth", 0.08, 30, False))
    rate = analyser.verdict().result(Criterion.FRAME_RATE)
    assert (rate.status, rate.advice) == (Status.FAIL, Reason.SLOW_CONNECTION.key)


def test_encoded_clip_file_is_cached_per_session(encoded: EncodedClips) -> None:
    recipe = GOOD["VP8 800 kbps"]
    first: Path = encoded.path(recipe)
    assert encoded.path(recipe) == first and first.stat().st_size > 10_000
