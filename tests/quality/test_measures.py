"""The picture measures on synthetic arrays: light, contrast, sharpness, change, regions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from signlink.quality import measures


def grey(value: int, shape: tuple[int, int] = (120, 160)) -> measures.GreyImage:
    return np.full(shape, value, dtype=np.uint8)


def texture(seed: int = 0, shape: tuple[int, int] = (240, 320)) -> measures.GreyImage:
    """Random blocks of 4x4 pixels: sharp edges everywhere, like a detailed scene."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(40, 216, size=(shape[0] // 4, shape[1] // 4), dtype=np.uint8)
    return np.asarray(np.kron(blocks, np.ones((4, 4), dtype=np.uint8)), dtype=np.uint8)


def test_light_reports_mean_luma_and_clipped_shares() -> None:
    half_black_half_white = np.hstack([grey(0), grey(255)])
    light = measures.light([half_black_half_white], black_level=16, white_level=245)
    assert light.luma == pytest.approx(127.5)
    assert light.black_share == pytest.approx(0.5)
    assert light.white_share == pytest.approx(0.5)
    assert light.contrast == pytest.approx(127.5)


def test_light_pools_regions_by_pixel_count() -> None:
    light = measures.light([grey(100, (10, 10)), grey(200, (10, 30))], black_level=16, white_level=245)
    assert light.luma == pytest.approx(175.0)
    assert light.black_share == 0.0
    assert light.white_share == 0.0


def test_flat_grey_has_no_contrast() -> None:
    assert measures.light([grey(128)], black_level=16, white_level=245).contrast == 0.0


def test_sharpness_drops_when_blurred() -> None:
    sharp = texture()
    blurred = np.asarray(cv2.GaussianBlur(sharp, (0, 0), 2.0), dtype=np.uint8)
    sharp_value = measures.sharpness([sharp])
    blurred_value = measures.sharpness([blurred])
    assert sharp_value is not None and blurred_value is not None
    assert sharp_value > 3 * blurred_value


def test_sharpness_ignores_exposure() -> None:
    """A dark picture is a light problem, not also a sharpness problem."""
    bright = texture()
    dark = (bright.astype(np.float32) * 0.3).astype(np.uint8)
    bright_value = measures.sharpness([bright])
    dark_value = measures.sharpness([dark])
    assert bright_value is not None and dark_value is not None
    assert dark_value == pytest.approx(bright_value, rel=0.15)


def test_sensor_noise_does_not_make_a_blurred_picture_sharp() -> None:
    blurred = cv2.GaussianBlur(texture(), (0, 0), 2.0).astype(np.float32)
    noisy = np.clip(blurred + np.random.default_rng(1).normal(0, 3, blurred.shape), 0, 255).astype(np.uint8)
    sharp_value = measures.sharpness([texture()])
    noisy_value = measures.sharpness([noisy])
    assert sharp_value is not None and noisy_value is not None
    assert noisy_value < sharp_value / 2


def test_sharpness_of_a_flat_picture_is_unknown() -> None:
    assert measures.sharpness([grey(0)]) is None
    assert measures.sharpness([grey(200)]) is None
    assert measures.sharpness([]) is None


def test_blurred_surroundings_count_little_beside_a_sharp_region() -> None:
    """Pooled over regions: a blurred patch of background in a region does not hide a sharp signer."""
    sharp = texture()
    blurred = np.asarray(cv2.GaussianBlur(texture(seed=2), (0, 0), 3.0), dtype=np.uint8)
    alone = measures.sharpness([sharp])
    pooled = measures.sharpness([sharp, blurred])
    assert alone is not None and pooled is not None
    assert pooled == pytest.approx(alone, rel=0.2)


def test_difference_is_zero_only_for_the_same_picture() -> None:
    picture = texture()
    moved = np.roll(picture, 2, axis=1)
    same = measures.difference(measures.thumbnail(picture), measures.thumbnail(picture.copy()))
    assert same == 0.0
    assert measures.difference(measures.thumbnail(picture), measures.thumbnail(moved)) > 1.0


def test_working_size_scales_down_to_the_short_side_and_never_up() -> None:
    assert measures.working_size(1280, 720, 240) == (427, 240)
    assert measures.working_size(540, 720, 240) == (240, 320)
    assert measures.working_size(160, 120, 240) == (160, 120)


def test_crops_fall_back_to_the_centre_and_clip_boxes_to_the_frame() -> None:
    picture = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    (centre,) = measures.crops(picture, [])
    assert centre.shape == (70, 50)
    (clipped,) = measures.crops(picture, [(-0.5, -0.5, 0.2, 0.1)])
    assert clipped.shape == (10, 20)
    (outside,) = measures.crops(picture, [(1.2, 0.0, 1.5, 1.0)])  # nothing usable: the centre
    assert outside.shape == (70, 50)
