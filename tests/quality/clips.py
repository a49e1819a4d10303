"""Decoded test clips and the bad cases derived from them (darkened, blurred, 8 fps, ...).

A clip is a list of (timestamp_s, RGB frame); the derivations are plain functions on it, so each
test states exactly what it did to a good clip.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from signlink.check.videofile import CheckResult, Frame, frames, run
from signlink.quality.analyser import Analyser

Image = NDArray[np.uint8]
Clip = list[tuple[float, Image]]


def decode(path: Path, *, start_s: float = 0.0, end_s: float = math.inf, width: int = 640) -> Clip:
    """The frames in [start_s, end_s), scaled to `width`, re-timed to start at 0."""
    clip: Clip = []
    for frame in frames(path):
        if start_s <= frame.timestamp_s < end_s:
            image = frame.rgb()
            height = round(image.shape[0] * width / image.shape[1])
            small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            clip.append((frame.timestamp_s - start_s, np.asarray(small, dtype=np.uint8)))
    return clip


def still(image: Image, *, seconds: float, fps: float = 25.0) -> Clip:
    return [(i / fps, image) for i in range(round(seconds * fps))]


def ping_pong(clip: Clip, *, seconds: float) -> Clip:
    """A short clip played forwards, backwards, forwards... at its own frame rate."""
    step = clip[1][0] - clip[0][0]
    cycle = [image for _, image in clip] + [image for _, image in clip[-2:0:-1]]
    count = round(seconds / step)
    return [(i * step, cycle[i % len(cycle)]) for i in range(count)]


def each(clip: Clip, change: Callable[[Image], Image]) -> Clip:
    return [(t, change(image)) for t, image in clip]


def darken(factor: float) -> Callable[[Image], Image]:
    return lambda image: (image.astype(np.float32) * factor).astype(np.uint8)


def blur(share_of_short_side: float) -> Callable[[Image], Image]:
    def apply(image: Image) -> Image:
        sigma = share_of_short_side * min(image.shape[:2])
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)

    return apply


def resize(width: int, height: int) -> Callable[[Image], Image]:
    return lambda image: np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))


def crop(x0: float, y0: float, x1: float, y1: float) -> Callable[[Image], Image]:
    def apply(image: Image) -> Image:
        height, width = image.shape[:2]
        return np.ascontiguousarray(
            image[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)]
        )

    return apply


def drop_to(fps: float, clip: Clip) -> Clip:
    """Keep the first frame of each 1/fps slot: what a camera delivering `fps` would send."""
    kept: Clip = []
    for t, image in clip:
        if not kept or math.floor(t * fps + 1e-6) > math.floor(kept[-1][0] * fps + 1e-6):
            kept.append((t, image))
    return kept


def frozen(clip: Clip) -> Clip:
    """The first picture over and over, at the clip's own timestamps."""
    return [(t, clip[0][1]) for t, _ in clip]


def _constant(image: Image) -> Callable[[], Image]:
    return lambda: image


def as_frames(clip: Clip) -> list[Frame]:
    return [Frame(t, image.shape[1], image.shape[0], _constant(image)) for t, image in clip]


def check(analyser: Analyser, clip: Clip) -> CheckResult:
    """The clip through exactly the file command's loop."""
    return run(analyser, as_frames(clip))


def check_path(analyser: Analyser, path: Path, *, seconds: float = math.inf) -> CheckResult:
    """The first `seconds` of a video file through the file command's loop (full resolution)."""
    with contextlib.closing(frames(path)) as source:
        return run(analyser, itertools.takewhile(lambda frame: frame.timestamp_s < seconds, source))
