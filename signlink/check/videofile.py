"""Run the analyser over a video file exactly as the live check runs it over a stream.

Every decoded frame is noted (real frame rate, resolution) at its own timestamp; the frames the
analyser says are due are analysed (in file mode none is dropped); the run stops at the first
complete passing verdict, as the live check does, else the last window is the verdict.
Shared by `signlink check` and the benchmarks.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from signlink.errors import MediaError
from signlink.quality.analyser import Analyser
from signlink.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from signlink.quality.verdict import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    timestamp_s: float  # from the first frame of the stream
    width: int
    height: int
    rgb: Callable[[], NDArray[np.uint8]]  # converted only when the frame is analysed


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    frames: int  # frames decoded up to the verdict
    analysed: int  # frames analysed up to the verdict
    media_s: float  # stream time of the last frame seen: first frame to verdict
    stopped_early: bool  # a passing verdict came before the end of the video


def frames(path: Path) -> Generator[Frame, None, None]:
    """The frames of the file's first video stream; MediaError when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = Fraction(stream.average_rate or 25)
            first: float | None = None
            for index, frame in enumerate(container.decode(stream)):
                # Frames without a timestamp fall back to their place at the nominal rate.
                time = frame.time if frame.time is not None else float(index / rate)
                first = time if first is None else first
                yield Frame(time - first, frame.width, frame.height, _rgb(frame))
            if first is None:
                raise MediaError(f"{path} holds no decodable video frame")
    except av.error.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(f"cannot read {path}: {reason}") from exc
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _rgb(frame: av.VideoFrame) -> Callable[[], NDArray[np.uint8]]:
    return lambda: np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def run(analyser: Analyser, source: Iterable[Frame]) -> CheckResult:
    """Feed frames to the analyser; stop at the first complete passing verdict."""
    verdict: Verdict | None = None
    seen = analysed = 0
    media_s = 0.0
    for frame in source:
        seen += 1
        media_s = frame.timestamp_s
        analyser.note_frame(frame.timestamp_s, frame.width, frame.height)
        if not analyser.due(frame.timestamp_s):
            continue
        analyser.analyse(frame.rgb(), frame.timestamp_s)
        analysed += 1
        verdict = analyser.verdict()
        if verdict.passed and verdict.complete:
            return CheckResult(verdict, seen, analysed, media_s, stopped_early=True)
    if seen == 0:
        raise MediaError("no video frames to check")
    return CheckResult(analyser.verdict(), seen, analysed, media_s, stopped_early=False)


def check_file(
    path: Path,
    hand_model: Path,
    face_model: Path,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    window_s: float = 1.0,
    analysis_fps: float = 10.0,
) -> CheckResult:
    if not path.is_file():
        raise MediaError(f"{path}: {'not a file' if path.exists() else 'no such file'}")
    with contextlib.closing(frames(path)) as source:
        first = next(source, None)  # an unreadable file fails here, before the models load
        if first is None:
            raise MediaError(f"{path} holds no video frame")
        analyser = Analyser(
            hand_model, face_model, thresholds=thresholds, window_s=window_s, analysis_fps=analysis_fps
        )
        with analyser:
            result = run(analyser, itertools.chain([first], source))
    log.info(
        "checked %s: %s after %.2f s (%d frames, %d analysed)",
        path,
        "passed" if result.verdict.passed else "failed",
        result.media_s,
        result.frames,
        result.analysed,
    )
    return result
