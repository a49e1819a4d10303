"""The frame analyser: decoded frames with timestamps in, a verdict over a rolling window out.

One `Analyser` per video stream. Every decoded frame goes to `note_frame` (cheap: it feeds the real
frame rate and the resolution); the frames `due` says go to `analyse` (the CPU-heavy part: MediaPipe
hands every time, the face detector on every other analysed frame, and picture measures on a
downscaled grey copy, taken on the signer's hands and face rather than the background). What the
sending browser knows of its own video goes to `add_sender_report` whenever the page reports it.
Observation may continue after a passing verdict: the window keeps rolling.

Not thread-safe: call it from one worker thread at a time. No asyncio, no I/O but loading the models.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision
from numpy.typing import NDArray

from signlink.errors import ModelError
from signlink.quality import measures
from signlink.quality.measures import Box
from signlink.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from signlink.quality.verdict import Verdict
from signlink.quality.window import FrameSample, SenderReport, Window

log = logging.getLogger(__name__)

HAND_MARGIN = 0.15  # landmarks run wrist to fingertips: widen the box to take in the whole hand
FACE_MARGIN = 0.1
FACE_EVERY = 2  # the face detector runs on every other analysed frame: faces move little in 0.1 s
# The full-range face detector (for a signer far from the camera), found beside the short-range one.
FAR_FACE_FILE = "face_detection_full_range_sparse.tflite"


def _overlap(inner: Box, outer: Box) -> float:
    """Share of `inner`'s area that lies inside `outer`."""
    width = min(inner[2], outer[2]) - max(inner[0], outer[0])
    height = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return max(0.0, width) * max(0.0, height) / area if area > 0 else 0.0


class Analyser:
    def __init__(
        self,
        hand_model: Path,
        face_model: Path,
        far_face_model: Path | None = None,
        *,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        window_s: float = 1.0,
        analysis_fps: float = 10.0,
    ) -> None:
        if window_s <= 0 or analysis_fps <= 0:
            raise ValueError("window_s and analysis_fps must be positive")
        self._t = thresholds
        self._fps = analysis_fps
        self._window = Window(thresholds, window_s)
        self._hands = self._load(
            vision.HandLandmarker,
            vision.HandLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(hand_model)),
                running_mode=vision.RunningMode.VIDEO,
                num_hands=2,
            ),
        )
        try:
            self._faces = self._load(
                vision.FaceDetector,
                vision.FaceDetectorOptions(
                    base_options=BaseOptions(model_asset_path=str(face_model)),
                    running_mode=vision.RunningMode.IMAGE,
                    min_detection_confidence=thresholds.min_face_score,
                ),
            )
        except BaseException:
            self._hands.close()
            raise
        far = far_face_model or face_model.with_name(FAR_FACE_FILE)
        self._far_faces: Any = None
        if far_face_model is not None or far.is_file():
            try:
                self._far_faces = self._load(
                    vision.FaceDetector,
                    vision.FaceDetectorOptions(
                        base_options=BaseOptions(model_asset_path=str(far)),
                        running_mode=vision.RunningMode.IMAGE,
                        min_detection_confidence=thresholds.min_far_face_score,
                    ),
                )
            except BaseException:
                self._faces.close()
                self._hands.close()
                raise
        self._closed = False
        self._last_slot: int | None = None
        self._last_s = -math.inf
        self._last_ms = -1
        self._analysed = 0
        self._face_box: Box | None = None
        # Recent motion pictures and hand landmarks, to compare with `motion_lag_s` later.
        self._past: deque[tuple[float, NDArray[np.float32], list[list[tuple[float, float]]]]] = deque()

    @staticmethod
    def _load(task: Any, options: Any) -> Any:
        try:
            return task.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load {options.base_options.model_asset_path}: {exc}") from exc

    # --- per frame -------------------------------------------------------------------------------

    def note_frame(self, timestamp_s: float, width: int, height: int) -> None:
        self._window.note(timestamp_s, width, height)

    def _slot(self, timestamp_s: float) -> int:
        return math.floor(timestamp_s * self._fps + 1e-6)

    def due(self, timestamp_s: float) -> bool:
        """True for the first frame of each 1/analysis_fps slot (and after the clock jumps back)."""
        if self._last_slot is None or timestamp_s < self._last_s:
            return True
        return self._slot(timestamp_s) > self._last_slot

    def analyse(self, image_rgb: NDArray[np.uint8], timestamp_s: float) -> None:
        if self._closed:
            raise RuntimeError("the analyser is closed")
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.shape} {image_rgb.dtype}")
        t = self._t
        image = np.ascontiguousarray(image_rgb)
        height, width = image.shape[:2]
        # MediaPipe's VIDEO mode needs strictly increasing integer milliseconds.
        self._last_ms = max(round(timestamp_s * 1000), self._last_ms + 1)
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
        found = self._hands.detect_for_video(frame, self._last_ms)

        hand_boxes: list[Box] = []
        points: list[list[tuple[float, float]]] = []
        cut_off = False
        extent: float | None = None
        for landmarks in found.hand_landmarks:
            xs = [point.x for point in landmarks]
            ys = [point.y for point in landmarks]
            points.append(list(zip(xs, ys, strict=True)))
            box = (min(xs), min(ys), max(xs), max(ys))
            hand_boxes.append(box)
            margin = t.edge_margin
            cut_off |= box[0] <= margin or box[1] <= margin or box[2] >= 1 - margin or box[3] >= 1 - margin
            longest = max((box[2] - box[0]) * width, (box[3] - box[1]) * height) / min(width, height)
            extent = longest if extent is None else max(extent, longest)

        face: bool | None = None
        face_box: Box | None = None
        if self._analysed % FACE_EVERY == 0:
            self._face_box = self._find_face(frame, width, height, hand_boxes)
            face = self._face_box is not None
            face_box = self._face_box

        # Grey first, then shrink: a third of the work of shrinking the colour picture.
        full_grey = measures.to_grey(image)
        size = measures.working_size(width, height, t.working_short_side)
        grey = measures.downscale(full_grey, size)
        regions = [measures.grow(box, HAND_MARGIN) for box in hand_boxes]
        if self._face_box is not None:
            regions.append(measures.grow(self._face_box, FACE_MARGIN))
        signer = measures.crops(grey, regions)
        moving = measures.motion_picture(grey)
        motion, shift = self._compare(timestamp_s, moving, points, regions)
        self._window.add(
            FrameSample(
                timestamp_s=timestamp_s,
                hands=len(hand_boxes),
                hand_extent=extent,
                cut_off=cut_off,
                face=face,
                light=measures.light(signer, t.black_level, t.white_level),
                frame_luma=float(grey.mean()),
                sharpness=measures.sharpness(signer),
                motion=motion,
                face_box=face_box,
                hand_boxes=tuple(hand_boxes),
                blockiness=measures.blockiness(full_grey, regions) if regions else None,
                landmark_shift=shift,
            )
        )
        self._analysed += 1
        self._last_slot = self._slot(timestamp_s)
        self._last_s = timestamp_s

    def _compare(
        self,
        timestamp_s: float,
        picture: NDArray[np.float32],
        points: list[list[tuple[float, float]]],
        regions: list[Box],
    ) -> tuple[float | None, float | None]:
        """Motion and landmark movement since the analysed frame about `motion_lag_s` ago."""
        lag = self._t.motion_lag_s
        past = self._past
        if past and timestamp_s < past[-1][0]:
            past.clear()  # the clock went back
        past.append((timestamp_s, picture, points))
        while len(past) > 1 and past[1][0] <= timestamp_s - lag + 1e-6:
            past.popleft()
        then, before, points_before = past[0]
        if timestamp_s - then < lag - 1e-6:
            return None, None
        return measures.motion(before, picture, regions), measures.landmark_shift(points_before, points)

    def add_sender_report(self, report: SenderReport) -> None:
        """What the sender knows of its video (muted track, frames encoded, bitrate, limits)."""
        self._window.add_report(report)

    def _find_face(self, frame: mp.Image, width: int, height: int, hand_boxes: list[Box]) -> Box | None:
        """The most confident face that is not a hand (a close hand can look like a face)."""
        best = self._best_face(self._faces.detect(frame).detections, width, height, hand_boxes, far=False)
        if best is None and self._far_faces is not None:
            # Nothing near: look for a small face further away (a signer far from the camera), or a
            # face the near detector scores low (it is weaker on small, codec-softened faces).
            detections = self._far_faces.detect(frame).detections
            best = self._best_face(detections, width, height, hand_boxes, far=True)
        return best

    def _best_face(
        self, detections: list[Any], width: int, height: int, hand_boxes: list[Box], *, far: bool
    ) -> Box | None:
        best: tuple[float, Box] | None = None
        for detection in detections:
            bb = detection.bounding_box
            box = (
                bb.origin_x / width,
                bb.origin_y / height,
                (bb.origin_x + bb.width) / width,
                (bb.origin_y + bb.height) / height,
            )
            if any(_overlap(box, hand) > self._t.max_face_hand_overlap for hand in hand_boxes):
                continue
            score = detection.categories[0].score if detection.categories else 0.0
            if far and box[3] - box[1] > self._t.max_far_face and score < self._t.min_face_score:
                continue  # a big far-detector face needs the near score (a close fist is no face)
            if best is None or score > best[0]:
                best = (score, box)
        return best[1] if best else None

    def verdict(self) -> Verdict:
        return self._window.verdict()

    # --- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._far_faces is not None:
                self._far_faces.close()
            self._faces.close()
            self._hands.close()

    def __enter__(self) -> Analyser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
