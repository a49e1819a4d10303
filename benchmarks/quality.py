"""The video check under measurement. Run: `python -m benchmarks.quality` (or `make bench`).

1. Analyser cost per frame against its baseline, in one run on the same decoded frames of a good
   clip: `Analyser.analyse` (hands, the face every other frame, light/sharpness/change measures on
   the signer) beside a bare `HandLandmarker.detect_for_video` (a fresh landmarker of its own, same
   frames, same timestamps). Target: median ratio <= 1.25. Rounds alternate between the two so a
   load change on this shared machine hits both alike. Measured at the clip's size and at 640x360.
2. The live path (benchmarks/quality_live.py, when present): time from first frame to verdict,
   concurrent checks. Merged under "live".

Prints figures as it goes and a JSON summary as the last line.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision
from numpy.typing import NDArray

from signlink import modelfiles
from signlink.check.videofile import frames
from signlink.config import PROJECT_ROOT
from signlink.quality import measures
from signlink.quality.analyser import Analyser
from signlink.quality.thresholds import DEFAULT_THRESHOLDS
from tests.support.media import media_dir

GOOD_CLIP = "videos/mps_woman_face_then_thumbsup_8s.mp4"  # passes the check (hands up from 1 s)
START_S = 1.6  # from the first frame with hands, to the end: the frames a passing check analyses
ROUNDS = 4
ANALYSIS_FPS = 10.0
TARGET_RATIO = 1.25

Image = NDArray[np.uint8]
Sample = tuple[float, Image]


def due_frames(path: Path, *, start_s: float, width: int | None) -> list[Sample]:
    """The first frame of each 1/10 s slot from `start_s` (what the analyser samples), scaled to `width`."""
    picked: list[Sample] = []
    slot = -1
    for frame in frames(path):
        this_slot = math.floor(frame.timestamp_s * ANALYSIS_FPS + 1e-6)
        if frame.timestamp_s < start_s or this_slot == slot:
            continue
        slot = this_slot
        image = frame.rgb()
        if width is not None:
            height = round(image.shape[0] * width / image.shape[1])
            image = np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
        picked.append((frame.timestamp_s, image))
    return picked


def _bare_landmarker(hand_model: Path) -> vision.HandLandmarker:
    options = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(hand_model)),
        running_mode=vision.RunningMode.VIDEO,
        num_hands=2,
    )
    return vision.HandLandmarker.create_from_options(options)


def _timed(samples: list[Sample], work: Callable[[Image, float], object]) -> list[float]:
    costs = []
    for timestamp, image in samples:
        start = time.perf_counter()
        work(image, timestamp)
        costs.append((time.perf_counter() - start) * 1000)
    return costs


def bare_round(samples: list[Sample], hand_model: Path) -> list[float]:
    with _bare_landmarker(hand_model) as landmarker:

        def detect(image: Image, timestamp: float) -> object:
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
            return landmarker.detect_for_video(frame, round(timestamp * 1000))

        return _timed(samples, detect)


def analyser_round(samples: list[Sample], hand_model: Path, face_model: Path) -> list[float]:
    with Analyser(hand_model, face_model) as analyser:
        return _timed(samples, analyser.analyse)


def measures_round(samples: list[Sample]) -> list[float]:
    """The analyser's own picture work without the models (centre region), for the breakdown."""

    def work(image: Image, _: float) -> object:
        height, width = image.shape[:2]
        size = measures.working_size(width, height, DEFAULT_THRESHOLDS.working_short_side)
        grey = measures.downscale(measures.to_grey(image), size)
        signer = measures.crops(grey, [])
        measures.light(signer, DEFAULT_THRESHOLDS.black_level, DEFAULT_THRESHOLDS.white_level)
        return measures.sharpness(signer), measures.thumbnail(grey)

    return _timed(samples, work)


def _summary(costs: list[float]) -> dict[str, float]:
    ordered = sorted(costs)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
    }


def measure_analyser(samples: list[Sample], hand_model: Path, face_model: Path) -> dict[str, object]:
    bare: list[float] = []
    full: list[float] = []
    for index in range(ROUNDS):
        # Alternate the order so neither side always runs on a warmer (or busier) machine.
        if index % 2 == 0:
            bare += bare_round(samples, hand_model)
            full += analyser_round(samples, hand_model, face_model)
        else:
            full += analyser_round(samples, hand_model, face_model)
            bare += bare_round(samples, hand_model)
    own = measures_round(samples)
    bare_s, full_s = _summary(bare), _summary(full)
    height, width = samples[0][1].shape[:2]
    return {
        "frames": len(samples),
        "rounds": ROUNDS,
        "size": f"{width}x{height}",
        "bare_detect_for_video": bare_s,
        "analyser": full_s,
        "measures_only": _summary(own),
        "ratio_median": round(full_s["median_ms"] / bare_s["median_ms"], 3),
        "ratio_mean": round(full_s["mean_ms"] / bare_s["mean_ms"], 3),
        "target_ratio": TARGET_RATIO,
    }


def measure_live() -> dict[str, object] | None:
    """benchmarks.quality_live.measure_live(), when that module exists."""
    if importlib.util.find_spec("benchmarks.quality_live") is None:
        return None
    module = importlib.import_module("benchmarks.quality_live")
    result: dict[str, object] = asyncio.run(module.measure_live())
    return result


def main() -> None:
    hand_model, face_model = modelfiles.verify(PROJECT_ROOT / "models")
    clip = media_dir() / GOOD_CLIP
    sections: dict[str, object] = {"clip": GOOD_CLIP, "load_average_before": round(os.getloadavg()[0], 2)}
    for name, width in (("analyser_native", None), ("analyser_640", 640)):
        samples = due_frames(clip, start_s=START_S, width=width)
        figures = measure_analyser(samples, hand_model, face_model)
        sections[name] = figures
        print(
            f"{name}: {figures['size']}, {figures['frames']} frames x {ROUNDS} rounds: "
            f"analyser {figures['analyser']} vs bare detect_for_video {figures['bare_detect_for_video']}: "
            f"ratio median {figures['ratio_median']} (mean {figures['ratio_mean']}, "
            f"target <= {TARGET_RATIO}); "
            f"picture measures alone {figures['measures_only']}",
            flush=True,
        )
    live = measure_live()
    if live is not None:
        sections["live"] = live
    print(json.dumps(sections))


if __name__ == "__main__":
    main()
