"""The analyser on real clips, and on bad cases derived from good clips in the test.

Each derived case must fail on exactly its own criterion, with its own message, while the good
clip it comes from passes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from signlink.check.videofile import check_file
from signlink.quality.analyser import Analyser
from signlink.quality.messages import MESSAGES, Reason
from signlink.quality.verdict import Criterion
from tests.quality.clips import Clip, blur, check, check_path, crop, darken, drop_to, each, frozen, resize

DERIVED: dict[str, tuple[str, Callable[[Clip], Clip], Criterion, Reason]] = {
    "darkened to 30%": ("thumbs_up", lambda c: each(c, darken(0.3)), Criterion.LIGHT, Reason.TOO_DARK),
    "blurred": ("thumbs_up", lambda c: each(c, blur(0.007)), Criterion.SHARPNESS, Reason.BLURRED),
    "dropped to 8 fps": ("thumbs_up", lambda c: drop_to(8.0, c), Criterion.FRAME_RATE, Reason.LOW_FRAME_RATE),
    "shrunk to 160x120": (
        "thumbs_up",
        lambda c: each(c, resize(160, 120)),
        Criterion.RESOLUTION,
        Reason.LOW_RESOLUTION,
    ),
    "frozen": ("thumbs_up", frozen, Criterion.FROZEN, Reason.FROZEN),
    # The top 47% of the picture: head and shoulders, the hands (lower) cut away; 1280x338.
    "hands cropped out": (
        "signer",
        lambda c: each(c, crop(0.0, 0.0, 1.0, 0.47)),
        Criterion.HANDS,
        Reason.NO_HANDS,
    ),
}


@pytest.mark.parametrize("base", ["thumbs_up", "signer"])
def test_good_clip_passes_within_a_window(
    analyser: Analyser, request: pytest.FixtureRequest, base: str
) -> None:
    clip: Clip = request.getfixturevalue(base)
    result = check(analyser, clip)
    assert result.verdict.passed and result.verdict.complete
    assert result.stopped_early
    assert result.media_s <= 1.1  # judged on the first full 1 s window


@pytest.mark.parametrize("case", DERIVED)
def test_derived_bad_case_fails_on_its_criterion(
    analyser: Analyser, request: pytest.FixtureRequest, case: str
) -> None:
    base, derive, criterion, reason = DERIVED[case]
    result = check(analyser, derive(request.getfixturevalue(base)))
    verdict = result.verdict
    assert not result.stopped_early  # no window along the way passed
    assert verdict.complete
    assert [r.criterion for r in verdict.failing()] == [criterion]
    assert verdict.result(criterion).message == MESSAGES[reason]


def test_real_clip_passes_once_the_hands_are_up(models: tuple[Path, Path], media: Path) -> None:
    """mps_woman_face_then_thumbsup: a face for the first second, then a thumb up in front of it."""
    result = check_file(media / "videos/mps_woman_face_then_thumbsup_8s.mp4", *models)
    assert result.verdict.passed and result.stopped_early
    assert 1.0 < result.media_s < 3.0


def test_face_alone_is_not_enough(analyser: Analyser, media: Path) -> None:
    result = check_path(analyser, media / "videos/mps_woman_face_then_thumbsup_8s.mp4", seconds=1.0)
    assert result.verdict.complete and not result.verdict.passed
    assert Criterion.HANDS in {r.criterion for r in result.verdict.failing()}


def test_close_up_hand_without_a_face_fails_on_face(analyser: Analyser, media: Path) -> None:
    """tfjs_asl_fingerspelling: a hand in every frame, no face; signing needs the face in view."""
    result = check_path(analyser, media / "videos/tfjs_asl_fingerspelling_hand_13s.mp4", seconds=3.0)
    assert [r.criterion for r in result.verdict.failing()] == [Criterion.FACE]
    assert result.verdict.metrics["hand_share"] == 1.0


def test_soft_reaching_hand_fails_face_and_first_sharpness(models: tuple[Path, Path], media: Path) -> None:
    """mps_hand_reaching: shallow focus and a moving hand are soft (sharpness 2.1-2.5) for the first
    3 s; once the hand holds still it is sharp enough, and only the missing face fails."""
    path = media / "videos/mps_hand_reaching_8s.mp4"
    with Analyser(*models) as analyser:
        first = check_path(analyser, path, seconds=3.0).verdict
    assert {r.criterion for r in first.failing()} == {Criterion.FACE, Criterion.SHARPNESS}
    with Analyser(*models) as analyser:
        last = check_path(analyser, path).verdict
    assert [r.criterion for r in last.failing()] == [Criterion.FACE]


def test_waving_hand_is_missed_too_often(analyser: Analyser, media: Path) -> None:
    """pose_webcam_woman_wave: a fast wave is a blur MediaPipe finds in under half the frames."""
    result = check_path(analyser, media / "videos/pose_webcam_woman_wave_2s.mp4")
    assert [r.criterion for r in result.verdict.failing()] == [Criterion.HANDS]


def test_person_far_away_fails_hands_and_face(analyser: Analyser, media: Path) -> None:
    result = check_path(analyser, media / "videos/tfjs_person_far_in_room_4s.mp4", seconds=2.0)
    assert {r.criterion for r in result.verdict.failing()} == {Criterion.HANDS, Criterion.FACE}


def test_clip_shorter_than_the_window_is_not_judged(analyser: Analyser, media: Path) -> None:
    result = check_path(analyser, media / "videos/pose_signer_man_0.4s.mp4")
    assert not result.verdict.complete and not result.verdict.passed
    assert result.verdict.failing() == ()
