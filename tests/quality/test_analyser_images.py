"""The analyser on the still pictures of ../shared/media: hands, face and framing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from signlink.quality.analyser import Analyser
from signlink.quality.messages import Reason, message
from signlink.quality.verdict import Criterion, Status, Verdict
from tests.quality.clips import Image, check, still

# (picture, hands in it, face in it: None where the face is small, far or in profile, so either is fine)
PICTURES = [
    ("positive/tfjs_two_hands.jpg", True, False),
    ("positive/mps_thumb_up.jpg", True, False),
    ("positive/mps_two_thumbs_overlapping.jpg", True, None),
    ("positive/mps_woman_sitting_two_hands.jpg", True, None),
    ("positive/mps_thumbs_up_black_bg.png", True, False),
    ("positive/mps_business_person_one_hand.png", True, True),
    ("positive/frame_mps_gesture_woman_thumbup.jpg", True, True),
    ("positive/frame_pose_webcam_woman_wave.jpg", True, True),
    ("positive/frame_pose_signer_man_2hands.jpg", True, True),
    ("negative/skimage_astronaut_face.png", False, True),
    ("negative/skimage_cameraman.png", False, None),
    ("negative/tfjs_portrait_obama.jpg", False, True),
    ("negative/frame_mps_gesture_woman_face.jpg", False, True),
    ("negative/frame_pose_webcam_woman_face.jpg", False, True),
    ("negative/tfjs_livingroom_empty.jpg", False, None),  # 224x224: the far detector sees a "face"
    ("negative/skimage_coffee.png", False, False),
    ("negative/skimage_rocket_night.jpg", False, False),
    ("negative/tfjs_yoga_beach_small_hands.jpg", False, None),
]


def load(path: Path) -> Image:
    picture = cv2.imread(str(path))
    assert picture is not None, path
    return np.asarray(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def judge(analyser: Analyser, image: Image) -> Verdict:
    """The picture held still for 1.2 s at 10 frames/s: a complete window."""
    verdict = check(analyser, still(image, seconds=1.2, fps=10.0)).verdict
    # Full for every criterion but the freeze, which looks 2 s back.
    assert all(
        r.status is not Status.PENDING for r in verdict.criteria if r.criterion is not Criterion.FROZEN
    )
    return verdict


def test_pictures_cover_the_media_folder(media: Path) -> None:
    on_disk = {str(p.relative_to(media / "images")) for p in (media / "images").glob("*/*")}
    assert on_disk == {name for name, _, _ in PICTURES}


@pytest.mark.parametrize(("name", "hands", "face"), PICTURES)
def test_hands_and_face_in_pictures(
    analyser: Analyser, media: Path, name: str, hands: bool, face: bool | None
) -> None:
    verdict = judge(analyser, load(media / "images" / name))
    result = verdict.result(Criterion.HANDS)
    if hands:
        assert result.status is Status.PASS
        assert verdict.metrics["hand_share"] == 1.0
    else:
        assert result.status is Status.FAIL
        # A small person is told to come closer, a face close-up to move back, else to raise hands.
        assert result.advice in (Reason.NO_HANDS.key, Reason.MOVE_CLOSER.key, Reason.MOVE_BACK.key)
    if face is not None:
        assert (verdict.result(Criterion.FACE).status is Status.PASS) is face


def test_a_signer_picture_passes_all_but_motion(analyser: Analyser, media: Path) -> None:
    """A still picture cannot pass frame rate or frozen; everything about the picture itself passes."""
    image = load(media / "images/positive/frame_pose_signer_man_2hands.jpg")
    verdict = check(analyser, still(image, seconds=2.6, fps=10.0)).verdict
    assert {r.criterion for r in verdict.failing()} == {Criterion.FRAME_RATE, Criterion.FROZEN}
    assert verdict.metrics["two_hands_share"] == 1.0


def test_hands_filling_the_frame_are_too_close(analyser: Analyser, media: Path) -> None:
    verdict = judge(analyser, load(media / "images/positive/tfjs_two_hands.jpg"))
    framing = verdict.result(Criterion.FRAMING)
    assert framing.status is Status.FAIL
    assert framing.message == message(Reason.HANDS_TOO_BIG)
