"""Light and sharpness are measured on the signer, not on the background.

Composites of the signer picture: the signer's box (head to waist, both hands) kept, the rest
replaced. Each has a counterpart that must fail, so the tests can fail.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from signlink.quality.analyser import Analyser
from signlink.quality.messages import Reason, message
from signlink.quality.thresholds import DEFAULT_THRESHOLDS
from signlink.quality.verdict import Criterion, Status, Verdict
from tests.quality.clips import Image, blur, check, darken, still
from tests.quality.test_analyser_images import load

SIGNER_BOX = (0.28, 0.05, 0.70, 0.85)  # frame_pose_signer_man_2hands.jpg: head, hands, chest


@pytest.fixture(scope="module")
def signer_picture(media: Path) -> Image:
    return load(media / "images/positive/frame_pose_signer_man_2hands.jpg")


@pytest.fixture(scope="module")
def scene(media: Path, signer_picture: Image) -> Image:
    """A detailed scene (a café table) the size of the signer picture."""
    height, width = signer_picture.shape[:2]
    return np.asarray(cv2.resize(load(media / "images/negative/skimage_coffee.png"), (width, height)))


def composite(background: Image, signer: Image) -> Image:
    height, width = background.shape[:2]
    x0, y0, x1, y1 = SIGNER_BOX
    rows, cols = slice(round(y0 * height), round(y1 * height)), slice(round(x0 * width), round(x1 * width))
    out = background.copy()
    out[rows, cols] = signer[rows, cols]
    return out


def judge(analyser: Analyser, image: Image) -> Verdict:
    verdict = check(analyser, still(image, seconds=1.2, fps=10.0)).verdict
    # Full for every criterion but the freeze, which looks 2 s back.
    assert all(
        r.status is not Status.PENDING for r in verdict.criteria if r.criterion is not Criterion.FROZEN
    )
    # The regions are the signer's: both hands and the face were found.
    assert verdict.metrics["hand_share"] == 1.0
    assert verdict.metrics["face_share"] == 1.0
    return verdict


def test_dark_plain_background_passes_light(analyser: Analyser, signer_picture: Image) -> None:
    image = composite(darken(0.1)(signer_picture), signer_picture)
    verdict = judge(analyser, image)
    assert verdict.result(Criterion.LIGHT).status is Status.PASS
    frame_luma = verdict.metrics["frame_luma"]
    assert isinstance(frame_luma, float) and frame_luma < DEFAULT_THRESHOLDS.min_luma  # the frame is dark


def test_dark_signer_fails_light(models: tuple[Path, Path], signer_picture: Image) -> None:
    with Analyser(*models) as analyser:
        verdict = check(analyser, still(darken(0.3)(signer_picture), seconds=1.2, fps=10.0)).verdict
    light = verdict.result(Criterion.LIGHT)
    assert light.status is Status.FAIL
    assert light.message == message(Reason.TOO_DARK)


def test_signer_in_front_of_a_bright_background_is_backlit(
    analyser: Analyser, signer_picture: Image, scene: Image
) -> None:
    bright = np.clip(scene.astype(np.int16) + 80, 0, 255).astype(np.uint8)
    verdict = check(
        analyser, still(composite(bright, darken(0.3)(signer_picture)), seconds=1.2, fps=10.0)
    ).verdict
    light = verdict.result(Criterion.LIGHT)
    assert light.status is Status.FAIL
    assert light.message == message(Reason.BACKLIT)


def test_blurred_background_passes_sharpness(analyser: Analyser, signer_picture: Image, scene: Image) -> None:
    image = composite(blur(0.02)(scene), signer_picture)
    assert judge(analyser, image).result(Criterion.SHARPNESS).status is Status.PASS


def test_blurred_signer_before_a_sharp_background_fails_sharpness(
    analyser: Analyser, signer_picture: Image, scene: Image
) -> None:
    image = composite(scene, blur(0.007)(signer_picture))
    sharpness = judge(analyser, image).result(Criterion.SHARPNESS)
    assert sharpness.status is Status.FAIL
    assert sharpness.message == message(Reason.BLURRED)
