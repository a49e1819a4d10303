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
from signlink.quality.messages import Reason, message
from signlink.quality.verdict import Criterion
from tests.quality.clips import Clip, blur, check, check_path, crop, darken, drop_to, each, frozen, resize

DERIVED: dict[str, tuple[str, Callable[[Clip], Clip], Criterion, Reason]] = {
    # The face is still found in the dark (by the full-range detector): only the light fails.
    "darkened to 30%": ("signer", lambda c: each(c, darken(0.3)), Criterion.LIGHT, Reason.TOO_DARK),
    "blurred": ("signer", lambda c: each(c, blur(0.007)), Criterion.SHARPNESS, Reason.BLURRED),
    "dropped to 8 fps": ("signer", lambda c: drop_to(8.0, c), Criterion.FRAME_RATE, Reason.LOW_FRAME_RATE),
    "shrunk to 160x120": (
        "signer",
        lambda c: each(c, resize(160, 120)),
        Criterion.RESOLUTION,
        Reason.LOW_RESOLUTION,
    ),
    "frozen": ("signer", frozen, Criterion.FROZEN, Reason.FROZEN),
    # The top 47% of the picture: head and shoulders, the hands (lower) cut away; 1280x338.
    "hands cropped out": (
        "signer",
        lambda c: each(c, crop(0.0, 0.0, 1.0, 0.47)),
        Criterion.HANDS,
        Reason.MOVE_BACK,  # formerly "raise your hands": the face says the signer is too close
    ),
}


@pytest.mark.parametrize("base", ["signer"])
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
    # Also failing, as the new rules say: head and shoulders alone (the hands cropped out) put the
    # waist far below the frame.
    also = {"hands cropped out": {Criterion.FRAMING}}.get(case, set())
    assert {r.criterion for r in verdict.failing()} == {criterion} | also
    assert verdict.result(criterion).message == message(reason)


def test_head_and_shoulders_close_up_is_told_to_move_back(models: tuple[Path, Path], media: Path) -> None:
    """mps_woman_face_then_thumbsup: a face, then a thumb up in front of it, head and shoulders only.

    Formerly a pass: framing was judged on one hand. The signing space to below the waist is not in
    view, so the only failure is framing, with "move back"."""
    result = check_file(media / "videos/mps_woman_face_then_thumbsup_8s.mp4", *models)
    framing = result.verdict.result(Criterion.FRAMING)
    assert [r.criterion for r in result.verdict.failing()] == [Criterion.FRAMING]
    assert framing.advice == Reason.MOVE_BACK.key


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
    assert Criterion.HANDS in {r.criterion for r in result.verdict.failing()}
    assert result.verdict.result(Criterion.HANDS).advice == Reason.NO_HANDS.key


def test_person_far_away_is_told_to_move_closer(analyser: Analyser, media: Path) -> None:
    """Formerly "face missing" and "raise your hands": the far face is found, so the cause is named."""
    result = check_path(analyser, media / "videos/tfjs_person_far_in_room_4s.mp4", seconds=2.0)
    failing = {r.criterion: r.advice for r in result.verdict.failing()}
    assert failing[Criterion.FRAMING] == failing[Criterion.HANDS] == Reason.MOVE_CLOSER.key
    assert Criterion.FACE not in failing


def test_clip_shorter_than_the_window_is_not_judged(analyser: Analyser, media: Path) -> None:
    result = check_path(analyser, media / "videos/pose_signer_man_0.4s.mp4")
    assert not result.verdict.complete and not result.verdict.passed
    assert result.verdict.failing() == ()
