"""The video check under measurement. Run: `python -m benchmarks.quality` (or `make bench`).

1. Analyser cost per frame against its baseline, in one run on the same decoded frames of a clip
   with hands and a face: `Analyser.analyse` (hands, the face every other frame, the full-range
   face detector when the near one finds none, light/sharpness/motion/blockiness on the signer)
   beside the bare models it runs, called as it calls them (`HandLandmarker.detect_for_video` on
   every frame, `FaceDetector.detect` on every other, the full-range one when the near one finds
   nothing; fresh instances, same frames, same timestamps), and beside bare `detect_for_video`
   alone. Target: median ratio to the bare models <= 1.25. Rounds alternate so a load change on
   this shared machine hits all alike; beside the wall-time ratio, the ratio of this process's CPU
   time (all threads), which waits for a busy core do not inflate. At the clip's size and 640x360.
2. Accuracy over the clips tests/quality derives from ../shared/media through real encoders
   (tests/quality/encoded.py): each good clip must pass (else a false reject), each bad clip must
   fail on its own criteria (else a false accept); with the first passing time and the margins.
3. The live path (benchmarks/quality_live.py, when present; skipped with `--no-live`): time from
   first frame to verdict, concurrent checks, the continued watch. Merged under "live".

Prints figures as it goes and a JSON summary as the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import math
import os
import statistics
import tempfile
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
from signlink.quality.analyser import FACE_EVERY, FAR_FACE_FILE, Analyser
from signlink.quality.thresholds import DEFAULT_THRESHOLDS
from tests.support.media import media_dir

# Hands and a face in every analysed frame (a head-and-shoulders close-up: framing fails "move back",
# which does not change the cost): every model the analyser runs does its full work.
GOOD_CLIP = "videos/mps_woman_face_then_thumbsup_8s.mp4"
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


Costs = list[tuple[float, float]]  # per frame: (wall ms, CPU ms of this process, all its threads)


def _timed(samples: list[Sample], work: Callable[[Image, float], object]) -> Costs:
    costs = []
    for timestamp, image in samples:
        start, cpu = time.perf_counter(), time.process_time()
        work(image, timestamp)
        costs.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
    return costs


def bare_round(samples: list[Sample], hand_model: Path) -> Costs:
    with _bare_landmarker(hand_model) as landmarker:

        def detect(image: Image, timestamp: float) -> object:
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
            return landmarker.detect_for_video(frame, round(timestamp * 1000))

        return _timed(samples, detect)


def _face_detector(model: Path, score: float) -> vision.FaceDetector:
    options = vision.FaceDetectorOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.IMAGE,
        min_detection_confidence=score,
    )
    return vision.FaceDetector.create_from_options(options)


def bare_models_round(samples: list[Sample], hand_model: Path, face_model: Path) -> Costs:
    """The models alone, called as the analyser calls them (faces every FACE_EVERY-th frame)."""
    t = DEFAULT_THRESHOLDS
    with (
        _bare_landmarker(hand_model) as landmarker,
        _face_detector(face_model, t.min_face_score) as near,
        _face_detector(face_model.with_name(FAR_FACE_FILE), t.min_far_face_score) as far,
    ):
        count = 0

        def detect(image: Image, timestamp: float) -> object:
            nonlocal count
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
            found = landmarker.detect_for_video(frame, round(timestamp * 1000))
            if count % FACE_EVERY == 0 and not near.detect(frame).detections:
                far.detect(frame)
            count += 1
            return found

        return _timed(samples, detect)


def analyser_round(samples: list[Sample], hand_model: Path, face_model: Path) -> Costs:
    with Analyser(hand_model, face_model) as analyser:
        return _timed(samples, analyser.analyse)


def measures_round(samples: list[Sample]) -> Costs:
    """The analyser's own picture work without the models (centre region), for the breakdown."""

    def work(image: Image, _: float) -> object:
        height, width = image.shape[:2]
        size = measures.working_size(width, height, DEFAULT_THRESHOLDS.working_short_side)
        grey = measures.downscale(measures.to_grey(image), size)
        signer = measures.crops(grey, [])
        measures.light(signer, DEFAULT_THRESHOLDS.black_level, DEFAULT_THRESHOLDS.white_level)
        centre = [(0.25, 0.25, 0.75, 0.75)]
        moving = measures.motion_picture(grey)
        return (
            measures.sharpness(signer),
            measures.motion(moving, moving, centre),
            measures.blockiness(measures.to_grey(image), centre),
        )

    return _timed(samples, work)


def _summary(costs: Costs) -> dict[str, float]:
    ordered = sorted(wall for wall, _ in costs)
    cpu = [used for _, used in costs]
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        # CPU time is what the work costs; wall time on a shared machine adds waits for a core.
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "cpu_mean_ms": round(statistics.fmean(cpu), 2),
    }


def measure_analyser(samples: list[Sample], hand_model: Path, face_model: Path) -> dict[str, object]:
    hands: Costs = []
    models: Costs = []
    full: Costs = []
    rounds: list[Callable[[], None]] = [
        lambda: hands.extend(bare_round(samples, hand_model)),
        lambda: models.extend(bare_models_round(samples, hand_model, face_model)),
        lambda: full.extend(analyser_round(samples, hand_model, face_model)),
    ]
    for index in range(ROUNDS):
        # Rotate the order so no side always runs on a warmer (or busier) machine.
        for run in rounds[index % 3 :] + rounds[: index % 3]:
            run()
    own = measures_round(samples)
    hands_s, models_s, full_s = _summary(hands), _summary(models), _summary(full)
    height, width = samples[0][1].shape[:2]
    return {
        "frames": len(samples),
        "rounds": ROUNDS,
        "size": f"{width}x{height}",
        "bare_detect_for_video": hands_s,
        "bare_models": models_s,
        "analyser": full_s,
        "measures_only": _summary(own),
        "ratio_median": round(full_s["median_ms"] / models_s["median_ms"], 3),
        "ratio_mean": round(full_s["mean_ms"] / models_s["mean_ms"], 3),
        "ratio_cpu_median": round(full_s["cpu_median_ms"] / models_s["cpu_median_ms"], 3),
        "ratio_cpu_mean": round(full_s["cpu_mean_ms"] / models_s["cpu_mean_ms"], 3),
        "ratio_to_hands_only_median": round(full_s["median_ms"] / hands_s["median_ms"], 3),
        "target_ratio": TARGET_RATIO,
    }


def measure_accuracy(hand_model: Path, face_model: Path) -> dict[str, object]:
    """Every derived clip of tests/quality/encoded.py through the analyser: right or wrong, margins."""
    from signlink.quality.messages import Reason
    from signlink.quality.verdict import Criterion
    from tests.quality.encoded import BAD, GOOD, MAY_ALSO_FAIL, EncodedClips, Recipe, feed

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="signlink-clips-") as folder:
        clips = EncodedClips(media_dir(), Path(folder))
        cases: list[tuple[str, Recipe, dict[Criterion, Reason] | None]]
        cases = [(name, recipe, None) for name, recipe in GOOD.items()]
        cases += [(name, recipe, expected) for name, (recipe, expected) in BAD.items()]
        for name, recipe, expected in cases:
            with Analyser(hand_model, face_model) as analyser:
                run = feed(analyser, clips.get(recipe))
            verdict = run.verdict
            failing = {r.criterion.value: r.advice for r in verdict.failing()}
            for criterion, reason in MAY_ALSO_FAIL.get(name, {}).items():
                if failing.get(criterion.value) == reason.key:
                    del failing[criterion.value]
            if expected is None:
                right = verdict.passed and verdict.complete
            else:
                wanted = {c.value: r.key for c, r in expected.items()}
                right = verdict.complete and not verdict.passed and failing == wanted
            m = verdict.metrics
            rows.append(
                {
                    "clip": name,
                    "expected": "pass" if expected is None else "fail",
                    "right": right,
                    "first_pass_s": None if run.first_pass_s is None else round(run.first_pass_s, 2),
                    "failing": failing,
                    **{k: m.get(k) for k in ("motion", "signer_share", "blockiness", "face_share", "fps")},
                }
            )
            print(f"accuracy: {'ok   ' if right else 'WRONG'} {name}: {rows[-1]}", flush=True)
    return {
        "clips": rows,
        "false_rejects": sum(1 for r in rows if r["expected"] == "pass" and not r["right"]),
        "false_accepts": sum(1 for r in rows if r["expected"] == "fail" and not r["right"]),
    }


def measure_live() -> dict[str, object] | None:
    """benchmarks.quality_live.measure_live(), when that module exists."""
    if importlib.util.find_spec("benchmarks.quality_live") is None:
        return None
    module = importlib.import_module("benchmarks.quality_live")
    result: dict[str, object] = asyncio.run(module.measure_live())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-live", action="store_true", help="skip the live path (quality_live)")
    args = parser.parse_args()
    hand_model, face_model = modelfiles.verify(PROJECT_ROOT / "models")
    clip = media_dir() / GOOD_CLIP
    sections: dict[str, object] = {"clip": GOOD_CLIP, "load_average_before": round(os.getloadavg()[0], 2)}
    for name, width in (("analyser_native", None), ("analyser_640", 640)):
        samples = due_frames(clip, start_s=START_S, width=width)
        figures = measure_analyser(samples, hand_model, face_model)
        sections[name] = figures
        print(
            f"{name}: {figures['size']}, {figures['frames']} frames x {ROUNDS} rounds: "
            f"analyser {figures['analyser']} vs the bare models {figures['bare_models']}: "
            f"ratio median {figures['ratio_median']} (mean {figures['ratio_mean']}, "
            f"CPU time median {figures['ratio_cpu_median']}, mean {figures['ratio_cpu_mean']}; "
            f"target <= {TARGET_RATIO}); bare detect_for_video alone {figures['bare_detect_for_video']}; "
            f"picture measures alone {figures['measures_only']}",
            flush=True,
        )
    accuracy = measure_accuracy(hand_model, face_model)
    sections["accuracy"] = accuracy
    print(
        f"accuracy: {len(accuracy['clips'])} clips, "  # type: ignore[arg-type]
        f"false rejects {accuracy['false_rejects']}, false accepts {accuracy['false_accepts']}",
        flush=True,
    )
    sections["load_average_after"] = round(os.getloadavg()[0], 2)
    live = None if args.no_live else measure_live()
    if live is not None:
        sections["live"] = live
    print(json.dumps(sections))


if __name__ == "__main__":
    main()
