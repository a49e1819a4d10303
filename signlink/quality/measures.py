"""Picture measures on numpy arrays: light, contrast, sharpness, change between frames.

Pure functions, vectorised with numpy/cv2. Regions are boxes in relative coordinates
(x0, y0, x1, y1 in 0..1) so they apply to any working size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, relative to the frame
GreyImage = NDArray[np.uint8]

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


def sharpness(region: GreyImage) -> float:
    """Variance of the Laplacian over the variance of luma: fine detail as a share of all detail.

    Dividing by the luma variance makes it independent of exposure and contrast, so a dark or
    flat picture is judged on light, not also on sharpness. 0 for a region too small or flat to tell.
    """
    if region.shape[0] < 8 or region.shape[1] < 8:
        return 0.0
    values = region.astype(np.float32)
    spread = float(values.var())
    if spread < 4.0:  # flat (a wall, a black frame): no edges to judge focus by
        return 0.0
    laplacian = cv2.Laplacian(values, cv2.CV_32F, ksize=1)
    return float(laplacian[1:-1, 1:-1].var()) / spread


def best_sharpness(regions: Sequence[GreyImage]) -> float:
    """The sharpest signer region: a face in focus with a hand moving fast is a usable picture."""
    return max((sharpness(region) for region in regions), default=0.0)


def thumbnail(grey: GreyImage) -> NDArray[np.float32]:
    small = cv2.resize(grey, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32)


def difference(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Mean absolute luma difference between two thumbnails."""
    return float(np.abs(a - b).mean())
