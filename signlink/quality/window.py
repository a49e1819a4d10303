"""The rolling window of measurements and the verdict over it (pure: no models, no I/O).

`Window` keeps what `Analyser` measured per frame for the last `window_s` seconds of stream time
and turns it into a `Verdict`. Tests drive it with synthetic samples.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from signlink.quality.measures import Light
from signlink.quality.messages import Reason, message
from signlink.quality.thresholds import Thresholds
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict

EPSILON_S = 1e-6


@dataclass(frozen=True)
class FrameNote:
    """Every decoded frame: when, and how big."""

    timestamp_s: float
    width: int
    height: int


@dataclass(frozen=True)
class FrameSample:
    """What one analysed frame showed."""

    timestamp_s: float
    hands: int
    hand_extent: float | None  # the largest hand: longest side of its box / the frame's short side
    cut_off: bool  # a hand reaches an edge of the frame
    face: bool | None  # None: the face detector did not run on this frame
    light: Light  # on the signer
    frame_luma: float  # over the whole frame (only to tell backlight from darkness)
    sharpness: float | None  # on the signer; None: too flat to tell
    difference: float | None  # from the previous analysed frame; None for the first


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


class Window:
    def __init__(self, thresholds: Thresholds, window_s: float) -> None:
        self._t = thresholds
        self._window_s = window_s
        self._notes: deque[FrameNote] = deque()
        self._samples: deque[FrameSample] = deque()

    def note(self, timestamp_s: float, width: int, height: int) -> None:
        if self._notes and timestamp_s <= self._notes[-1].timestamp_s:
            if timestamp_s < self._notes[-1].timestamp_s - EPSILON_S:
                self.clear()  # the stream's clock went back (a restart): start over
            else:
                return  # the same instant twice says nothing about the frame rate
        self._notes.append(FrameNote(timestamp_s, width, height))
        self._trim()

    def add(self, sample: FrameSample) -> None:
        self._samples.append(sample)
        self._trim()

    def clear(self) -> None:
        self._notes.clear()
        self._samples.clear()

    def _trim(self) -> None:
        latest = max(
            self._notes[-1].timestamp_s if self._notes else float("-inf"),
            self._samples[-1].timestamp_s if self._samples else float("-inf"),
        )
        horizon = latest - self._window_s - EPSILON_S
        while self._notes and self._notes[0].timestamp_s < horizon:
            self._notes.popleft()
        while self._samples and self._samples[0].timestamp_s < horizon:
            self._samples.popleft()

    def verdict(self) -> Verdict:
        return _Judge(self._t, self._window_s, tuple(self._notes), tuple(self._samples)).verdict()


class _Judge:
    """One verdict over a snapshot of the window."""

    def __init__(
        self,
        thresholds: Thresholds,
        window_s: float,
        notes: tuple[FrameNote, ...],
        samples: tuple[FrameSample, ...],
    ) -> None:
        self.t = thresholds
        self.notes = notes
        self.samples = samples
        self.span = notes[-1].timestamp_s - notes[0].timestamp_s if len(notes) > 1 else 0.0
        self.complete = (
            self.span >= thresholds.min_window_share * window_s - EPSILON_S
            and len(samples) >= thresholds.min_analysed_frames
            and sum(s.face is not None for s in samples) >= thresholds.min_face_frames
        )
        self.metrics: dict[str, float | int | None] = {"window_s": round(self.span, 3)}

    def verdict(self) -> Verdict:
        judges: tuple[Callable[[], CriterionResult], ...] = (
            self.resolution,
            self.frame_rate,
            self.hands,
            self.framing,
            self.face,
            self.light,
            self.sharpness,
            self.frozen,
        )
        criteria = tuple(judge() for judge in judges)
        return Verdict(
            passed=all(result.status is Status.PASS for result in criteria),
            complete=all(result.status is not Status.PENDING for result in criteria),
            criteria=criteria,
            metrics=self.metrics,
        )

    def _result(
        self,
        criterion: Criterion,
        value: float | None,
        threshold: float | None,
        failure: Reason | None,
        *,
        ready: bool | None = None,
    ) -> CriterionResult:
        """PENDING until the window is complete (or `ready` says otherwise), then FAIL on a reason."""
        if not (self.complete if ready is None else ready):
            return CriterionResult(criterion, Status.PENDING, value, threshold, message(None))
        status = Status.FAIL if failure is not None else Status.PASS
        return CriterionResult(criterion, status, value, threshold, message(failure))

    def resolution(self) -> CriterionResult:
        latest = self.notes[-1] if self.notes else None
        self.metrics["width"] = latest.width if latest else None
        self.metrics["height"] = latest.height if latest else None
        if latest is None:
            return self._result(Criterion.RESOLUTION, None, float(self.t.min_short_side), None, ready=False)
        short, long = sorted((latest.width, latest.height))
        low = short < self.t.min_short_side or long < self.t.min_long_side
        failure = Reason.LOW_RESOLUTION if low else None
        # Known from the first frame: judged at once.
        return self._result(
            Criterion.RESOLUTION, float(short), float(self.t.min_short_side), failure, ready=True
        )

    def frame_rate(self) -> CriterionResult:
        fps = (len(self.notes) - 1) / self.span if self.span > 0 else None
        self.metrics["fps"] = round(fps, 2) if fps is not None else None
        self.metrics["frames"] = len(self.notes)
        slow = fps is not None and fps < self.t.min_fps * (1 - self.t.fps_tolerance)
        failure = Reason.LOW_FRAME_RATE if slow else None
        return self._result(Criterion.FRAME_RATE, fps, self.t.min_fps, failure)

    def hands(self) -> CriterionResult:
        share = _share([s.hands > 0 for s in self.samples])
        self.metrics["analysed_frames"] = len(self.samples)
        self.metrics["hand_share"] = share
        self.metrics["two_hands_share"] = _share([s.hands > 1 for s in self.samples])
        few = share is None or share < self.t.min_hand_share
        return self._result(Criterion.HANDS, share, self.t.min_hand_share, Reason.NO_HANDS if few else None)

    def framing(self) -> CriterionResult:
        extents = [s.hand_extent for s in self.samples if s.hands > 0 and s.hand_extent is not None]
        cut_off = _share([s.cut_off for s in self.samples if s.hands > 0])
        extent = _median(extents)
        self.metrics["cut_off_share"] = cut_off
        self.metrics["hand_extent"] = extent
        t = self.t
        if cut_off is None or extent is None:
            # No hands to frame: the hands criterion reports that; framing has nothing to add.
            return self._result(Criterion.FRAMING, None, t.max_cut_off_share, None)
        if cut_off > t.max_cut_off_share:
            return self._result(Criterion.FRAMING, cut_off, t.max_cut_off_share, Reason.HANDS_CUT_OFF)
        if extent > t.max_hand_extent:
            return self._result(Criterion.FRAMING, extent, t.max_hand_extent, Reason.HANDS_TOO_BIG)
        if extent < t.min_hand_extent:
            return self._result(Criterion.FRAMING, extent, t.min_hand_extent, Reason.HANDS_TOO_SMALL)
        return self._result(Criterion.FRAMING, cut_off, t.max_cut_off_share, None)

    def face(self) -> CriterionResult:
        share = _share([s.face for s in self.samples if s.face is not None])
        self.metrics["face_share"] = share
        missing = share is None or share < self.t.min_face_share
        return self._result(Criterion.FACE, share, self.t.min_face_share, Reason.NO_FACE if missing else None)

    def light(self) -> CriterionResult:
        t = self.t
        luma = _median([s.light.luma for s in self.samples])
        black = _median([s.light.black_share for s in self.samples])
        white = _median([s.light.white_share for s in self.samples])
        contrast = _median([s.light.contrast for s in self.samples])
        frame_luma = _median([s.frame_luma for s in self.samples])
        self.metrics.update(
            luma=luma, black_share=black, white_share=white, contrast=contrast, frame_luma=frame_luma
        )
        if luma is None or black is None or white is None or contrast is None or frame_luma is None:
            return self._result(Criterion.LIGHT, None, t.min_luma, None, ready=False)
        if luma < t.min_luma or black > t.max_black_share:
            backlit = frame_luma - luma > t.backlight_margin
            return self._result(
                Criterion.LIGHT, luma, t.min_luma, Reason.BACKLIT if backlit else Reason.TOO_DARK
            )
        if luma > t.max_luma or white > t.max_white_share:
            return self._result(Criterion.LIGHT, luma, t.max_luma, Reason.TOO_BRIGHT)
        if contrast < t.min_contrast:
            return self._result(Criterion.LIGHT, contrast, t.min_contrast, Reason.LOW_CONTRAST)
        return self._result(Criterion.LIGHT, luma, t.min_luma, None)

    def sharpness(self) -> CriterionResult:
        value = _median([s.sharpness for s in self.samples if s.sharpness is not None])
        self.metrics["sharpness"] = value
        # No edges at all to judge by (a black frame) is left to the light check.
        blurred = value is not None and value < self.t.min_sharpness
        failure = Reason.BLURRED if blurred else None
        return self._result(Criterion.SHARPNESS, value, self.t.min_sharpness, failure)

    def frozen(self) -> CriterionResult:
        same = [s.difference < self.t.frozen_difference for s in self.samples if s.difference is not None]
        share = _share(same)
        self.metrics["frozen_share"] = share
        self.metrics["difference"] = _median([s.difference for s in self.samples if s.difference is not None])
        stuck = share is not None and share >= self.t.max_frozen_share
        return self._result(
            Criterion.FROZEN, share, self.t.max_frozen_share, Reason.FROZEN if stuck else None
        )
