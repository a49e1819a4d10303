"""Picture measures on numpy arrays: light, contrast, sharpness, blockiness, motion between frames.

Pure functions, vectorised with numpy/cv2. Regions are boxes in relative coordinates
(x0, y0, x1, y1 in 0..1) so they apply to any working size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, relative to the frame
GreyImage = NDArray[np.uint8]

# Sharpness compares detail at these two blur scales (pixels of the working image): the fine one
# already smooths away pixel noise, which would otherwise look like sharp detail.
FINE_SIGMA = 0.7
COARSE_SIGMA = 1.5
# Below this mean re-blurred detail energy per pixel a region has no edges to judge focus by.
FLAT_DETAIL = 0.001
# When nothing is detected the signer is assumed to sit in the middle of the picture.
CENTRE: Box = (0.25, 0.15, 0.75, 0.85)
THUMBNAIL_SIZE = (64, 48)  # width, height: enough to see a change, small enough to ignore noise


@dataclass(frozen=True)
class Light:
    luma: float  # mean luma, 0-255
    black_share: float  # share of pixels at or below the black level
    white_share: float  # share of pixels at or above the white level
    contrast: float  # standard deviation of luma


def working_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(width, height) scaled down so the short side is at most `short_side`; never scaled up."""
    scale = min(1.0, short_side / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def downscale(image: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """Shrink to (width, height) with area averaging (no aliasing to pass for sharp detail)."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def to_grey(image_rgb: NDArray[np.uint8]) -> GreyImage:
    return np.asarray(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def clamp_box(box: Box) -> Box | None:
    x0, y0, x1, y1 = (min(1.0, max(0.0, v)) for v in box)
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    return x0, y0, x1, y1


def grow(box: Box, by: float) -> Box:
    """The box widened by `by` of its own size on every side."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * by, (y1 - y0) * by
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def crop(grey: GreyImage, box: Box) -> GreyImage:
    height, width = grey.shape
    x0, y0, x1, y1 = box
    c0, r0 = int(x0 * width), int(y0 * height)
    c1, r1 = max(c0 + 1, round(x1 * width)), max(r0 + 1, round(y1 * height))
    return grey[r0:r1, c0:c1]


def crops(grey: GreyImage, boxes: Sequence[Box]) -> list[GreyImage]:
    """The regions of the picture inside `boxes` (the centre when none is usable)."""
    usable = [b for b in (clamp_box(box) for box in boxes) if b is not None]
    return [crop(grey, box) for box in (usable or [CENTRE])]


def light(regions: Sequence[GreyImage], black_level: int, white_level: int) -> Light:
    pixels = np.concatenate([region.ravel() for region in regions])
    if pixels.size == 0:
        return Light(0.0, 1.0, 0.0, 0.0)
    histogram = np.bincount(pixels, minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    total = float(pixels.size)
    mean = float(histogram @ levels) / total
    variance = float(histogram @ (levels - mean) ** 2) / total
    return Light(
        luma=mean,
        black_share=float(histogram[: black_level + 1].sum()) / total,
        white_share=float(histogram[white_level:].sum()) / total,
        contrast=variance**0.5,
    )


def _detail(region: GreyImage) -> tuple[float, float]:
    """Detail energy of a region at two scales: after a light smoothing, and after a stronger one."""
    if region.shape[0] < 12 or region.shape[1] < 12:
        return 0.0, 0.0
    values = region.astype(np.float32)
    fine = cv2.Laplacian(cv2.GaussianBlur(values, (0, 0), FINE_SIGMA), cv2.CV_32F, ksize=1)[4:-4, 4:-4]
    coarse = cv2.Laplacian(cv2.GaussianBlur(values, (0, 0), COARSE_SIGMA), cv2.CV_32F, ksize=1)[4:-4, 4:-4]
    return float(np.square(fine).sum()), float(np.square(coarse).sum())


def sharpness(regions: Sequence[GreyImage]) -> float | None:
    """How much detail a re-blur removes: high when the picture is sharp, near 1 when already blurred.

    Measured at the working size (resolution-normalised) and pooled over the signer's regions. A
    ratio, so exposure and contrast cancel out (a dark picture is judged on light, not also on
    sharpness); the light smoothing at the fine scale keeps sensor noise from passing for detail.
    None when the regions are too flat to tell (a black frame, a bare wall).
    """
    fine = coarse = 0.0
    pixels = 0
    for region in regions:
        f, c = _detail(region)
        fine, coarse, pixels = fine + f, coarse + c, pixels + region.size
    if pixels == 0 or coarse / pixels < FLAT_DETAIL:
        return None
    return fine / coarse


def thumbnail(grey: GreyImage) -> NDArray[np.float32]:
    small = cv2.resize(grey, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32)


def difference(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Mean absolute luma difference between two thumbnails."""
    return float(np.abs(a - b).mean())


# Motion is compared on the working-size grey picture after this blur (pixels): sensor grain and
# codec noise average out, a moving edge does not.
MOTION_SIGMA = 1.0
MOTION_PERCENTILE = 99.0
BLOCK = 8  # the transform block of VP8 and H.264 (4x4 sub-blocks sit inside its edges)
MIN_BLOCKS = 6  # a region narrower than this many blocks says little about a grid


def motion_picture(grey: GreyImage) -> NDArray[np.float32]:
    """The picture motion is measured on: the working-size grey, lightly blurred."""
    return np.asarray(cv2.GaussianBlur(grey.astype(np.float32), (0, 0), MOTION_SIGMA), dtype=np.float32)


def motion(before: NDArray[np.float32], after: NDArray[np.float32], boxes: Sequence[Box]) -> float:
    """How much the signer's regions changed: a high percentile of the absolute luma change.

    A percentile, not the mean, so a blink or a moving finger (a few percent of the pixels) counts
    while a picture re-coded at a keyframe (small changes everywhere) does not.
    """
    if before.shape != after.shape:
        return math.inf  # the picture size changed: that is a live camera
    # Only the regions are differenced: the rest of the picture is not looked at.
    pairs = zip(crops_f(before, boxes), crops_f(after, boxes), strict=True)
    pixels = np.concatenate([np.abs(a - b).ravel() for b, a in pairs])
    return float(np.percentile(pixels, MOTION_PERCENTILE)) if pixels.size else 0.0


def crops_f(image: NDArray[np.float32], boxes: Sequence[Box]) -> list[NDArray[np.float32]]:
    usable = [b for b in (clamp_box(box) for box in boxes) if b is not None]
    height, width = image.shape
    out = []
    for x0, y0, x1, y1 in usable or [CENTRE]:
        c0, r0 = int(x0 * width), int(y0 * height)
        c1, r1 = max(c0 + 1, round(x1 * width)), max(r0 + 1, round(y1 * height))
        out.append(image[r0:r1, c0:c1])
    return out


def blockiness(grey: GreyImage, boxes: Sequence[Box]) -> float | None:
    """Gradient energy across the 8x8 block grid over the energy inside blocks, in `boxes`.

    On the decoded picture at full size (the grid is the codec's). 1.0 when edges fall anywhere;
    above it when the picture is made of blocks. None when the regions are too small or flat.
    """
    height, width = grey.shape
    across = inside = 0.0
    for box in (b for b in (clamp_box(box) for box in boxes) if b is not None):
        # Snap the region to the grid so its block boundaries are the codec's.
        c0, r0 = int(box[0] * width) // BLOCK * BLOCK, int(box[1] * height) // BLOCK * BLOCK
        c1, r1 = round(box[2] * width), round(box[3] * height)
        if c1 - c0 < MIN_BLOCKS * BLOCK or r1 - r0 < MIN_BLOCKS * BLOCK:
            continue  # too few blocks to tell a grid from chance
        region = grey[r0:r1, c0:c1]
        # Exact integer sums per column (row) of the absolute steps; the grid lines are every 8th.
        columns = cv2.absdiff(region[:, 1:], region[:, :-1]).sum(axis=0, dtype=np.int64)
        rows = cv2.absdiff(region[1:, :], region[:-1, :]).sum(axis=1, dtype=np.int64)
        high, wide = region.shape
        across += _grid_mean(columns, high) + _grid_mean(rows, wide)
        inside += _off_grid_mean(columns, high) + _off_grid_mean(rows, wide)
    if inside < 0.5:  # flat: nothing to tell blocks by
        return None
    return across / inside


def _grid_mean(sums: NDArray[np.int64], length: int) -> float:
    """Mean step across the block grid, from the steps summed along each line."""
    on = sums[BLOCK - 1 :: BLOCK]
    return float(on.sum()) / (on.size * length)


def _off_grid_mean(sums: NDArray[np.int64], length: int) -> float:
    on = sums[BLOCK - 1 :: BLOCK]
    return float(sums.sum() - on.sum()) / ((sums.size - on.size) * length)


def landmark_shift(
    before: Sequence[Sequence[tuple[float, float]]], after: Sequence[Sequence[tuple[float, float]]]
) -> float | None:
    """Mean movement of the hands' landmarks (relative units), pairing hands by order; None if unpaired."""
    if not before or len(before) != len(after):
        return None
    shifts = [
        math.hypot(ax - bx, ay - by)
        for hand_before, hand_after in zip(before, after, strict=True)
        for (bx, by), (ax, ay) in zip(hand_before, hand_after, strict=True)
    ]
    return sum(shifts) / len(shifts) if shifts else None
