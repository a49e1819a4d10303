"""The rolling window of measurements and the verdict over it (pure: no models, no I/O).

`Window` keeps what `Analyser` measured per frame, and what the sender reported about its own
video (`SenderReport`), and turns it into a `Verdict`. Most criteria look at the last `window_s`
seconds; the freeze looks further back (`freeze_span_s`), so a still moment is not a freeze and a
freeze after a good start is still caught while observation continues. Tests drive it with
synthetic samples.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from signlink.quality.measures import Box, Light
from signlink.quality.messages import Reason, advice
from signlink.quality.thresholds import Thresholds
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict

EPSILON_S = 1e-6
SENDER_HISTORY_S = 10.0  # sender reports come about once a second; a few are enough
CONNECTION_LIMITS = ("bandwidth",)


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
    motion: float | None = (
        None  # change in the signer's regions since `motion_lag_s` ago; None: no earlier frame
    )
    face_box: Box | None = None  # where the face was found on this frame (None: not found or not run)
    hand_boxes: tuple[Box, ...] = ()
    blockiness: float | None = None  # on the signer's regions; None: too small or flat to tell
    landmark_shift: float | None = None  # hands' landmark movement since `motion_lag_s` ago


@dataclass(frozen=True)
class SenderReport:
    """What the sending browser knows of its own video (getStats() of the sender, track events).

    `t_s` is on the stream's clock (the frames' timestamps). Any field may be None: not known.
    """

    t_s: float
    fps: float | None  # framesPerSecond the encoder sends
    bitrate_kbps: float | None  # the video's send bitrate
    quality_limitation_reason: str | None  # "none", "bandwidth", "cpu" or "other"
    packet_loss: float | None  # share of packets lost (0-1), from the receiver's reports
    frames_encoded: int | None  # the encoder's running count
    track_muted: bool | None  # the camera track's `muted` (the source delivers no frames)


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


class Window:
    def __init__(self, thresholds: Thresholds, window_s: float) -> None:
        self._t = thresholds
        self._window_s = window_s
        # Samples are kept long enough for the freeze's longer look back.
        self._history_s = max(window_s, thresholds.freeze_span_s + thresholds.motion_lag_s)
        self._notes: deque[FrameNote] = deque()
        self._samples: deque[FrameSample] = deque()
        self._reports: deque[SenderReport] = deque()

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

    def add_report(self, report: SenderReport) -> None:
        if self._reports and report.t_s < self._reports[-1].t_s - EPSILON_S:
            self._reports.clear()
        self._reports.append(report)
        while self._reports and self._reports[0].t_s < report.t_s - SENDER_HISTORY_S:
            self._reports.popleft()

    def samples(self) -> tuple[FrameSample, ...]:
        return tuple(self._samples)

    def clear(self) -> None:
        self._notes.clear()
        self._samples.clear()
        self._reports.clear()

    def _trim(self) -> None:
        latest = max(
            self._notes[-1].timestamp_s if self._notes else float("-inf"),
            self._samples[-1].timestamp_s if self._samples else float("-inf"),
        )
        while self._notes and self._notes[0].timestamp_s < latest - self._window_s - EPSILON_S:
            self._notes.popleft()
        while self._samples and self._samples[0].timestamp_s < latest - self._history_s - EPSILON_S:
            self._samples.popleft()

    def verdict(self) -> Verdict:
        return _Judge(
            self._t, self._window_s, tuple(self._notes), tuple(self._samples), tuple(self._reports)
        ).verdict()


@dataclass(frozen=True)
class _Body:
    """The signer as the face and hands imply it (relative coordinates)."""

    head_top: float
    waist: float
    left: float
    right: float
    share: float  # the estimated body, clipped to the frame and united with the hands, over the frame
    centre_x: float
    face_height: float


class _Judge:
    """One verdict over a snapshot of the window."""

    def __init__(
        self,
        thresholds: Thresholds,
        window_s: float,
        notes: tuple[FrameNote, ...],
        history: tuple[FrameSample, ...],
        reports: tuple[SenderReport, ...],
    ) -> None:
        self.t = thresholds
        self.notes = notes
        self.history = history
        latest = history[-1].timestamp_s if history else 0.0
        self.samples = tuple(s for s in history if s.timestamp_s >= latest - window_s - EPSILON_S)
        self.reports = reports
        self.report = reports[-1] if reports else None
        self.span = notes[-1].timestamp_s - notes[0].timestamp_s if len(notes) > 1 else 0.0
        self.complete = (
            self.span >= thresholds.min_window_share * window_s - EPSILON_S
            and len(self.samples) >= thresholds.min_analysed_frames
            and sum(s.face is not None for s in self.samples) >= thresholds.min_face_frames
        )
        self.metrics: dict[str, float | int | None] = {"window_s": round(self.span, 3)}
        self.body = self._body()

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
        measured: bool = True,
    ) -> CriterionResult:
        """PENDING until the window is complete (or `ready` says otherwise), then FAIL on a reason,
        NOT_MEASURED when there was nothing to measure, else PASS."""
        if not (self.complete if ready is None else ready):
            return CriterionResult(criterion, Status.PENDING, value, threshold)
        if failure is not None:
            return CriterionResult(criterion, Status.FAIL, value, threshold, advice(failure))
        status = Status.PASS if measured else Status.NOT_MEASURED
        return CriterionResult(criterion, status, value, threshold)

    # --- what the sender says --------------------------------------------------------------------

    def _limited_by(self) -> Reason | None:
        """The sender's own account of why its video is poor, as a cause to name."""
        report = self.report
        if report is None:
            return None
        if report.quality_limitation_reason in CONNECTION_LIMITS:
            return Reason.SLOW_CONNECTION
        if report.packet_loss is not None and report.packet_loss > self.t.max_packet_loss:
            return Reason.SLOW_CONNECTION
        if report.quality_limitation_reason == "cpu":
            return Reason.BUSY_DEVICE
        return None

    def _camera_stopped(self) -> bool:
        """The sender says its track is muted, or its encoder has made no frame for a while."""
        report = self.report
        if report is None:
            return False
        if report.track_muted:
            return True
        if report.frames_encoded is None:
            return False
        stalled_since = report.t_s - self.t.stalled_encoder_s
        return any(
            earlier.frames_encoded is not None
            and earlier.t_s <= stalled_since
            and report.frames_encoded <= earlier.frames_encoded
            for earlier in self.reports
        )

    # --- criteria --------------------------------------------------------------------------------

    def resolution(self) -> CriterionResult:
        latest = self.notes[-1] if self.notes else None
        self.metrics["width"] = latest.width if latest else None
        self.metrics["height"] = latest.height if latest else None
        if latest is None:
            return self._result(Criterion.RESOLUTION, None, float(self.t.min_short_side), None, ready=False)
        short, long = sorted((latest.width, latest.height))
        low = short < self.t.min_short_side or long < self.t.min_long_side
        failure = (self._limited_by() or Reason.LOW_RESOLUTION) if low else None
        # Known from the first frame: judged at once.
        return self._result(
            Criterion.RESOLUTION, float(short), float(self.t.min_short_side), failure, ready=True
        )

    def frame_rate(self) -> CriterionResult:
        fps = (len(self.notes) - 1) / self.span if self.span > 0 else None
        self.metrics["fps"] = round(fps, 2) if fps is not None else None
        self.metrics["frames"] = len(self.notes)
        if self.report is not None:
            self.metrics["sender_fps"] = self.report.fps
        slow = fps is not None and fps < self.t.min_fps * (1 - self.t.fps_tolerance)
        failure = None
        if slow:
            # Causes before symptoms: the sender's limit, else a dark room (webcams lengthen their
            # exposure, and so lower their frame rate, in the dark).
            failure = self._limited_by() or (
                Reason.DARK_SLOWS_CAMERA if self._dark() else Reason.LOW_FRAME_RATE
            )
        return self._result(Criterion.FRAME_RATE, fps, self.t.min_fps, failure)

    def hands(self) -> CriterionResult:
        share = _share([s.hands > 0 for s in self.samples])
        self.metrics["analysed_frames"] = len(self.samples)
        self.metrics["hand_share"] = share
        self.metrics["two_hands_share"] = _share([s.hands > 1 for s in self.samples])
        few = share is None or share < self.t.min_hand_share
        failure = self._hands_cause() if few else None
        return self._result(Criterion.HANDS, share, self.t.min_hand_share, failure)

    def _hands_cause(self) -> Reason:
        """Why the hands were not seen: the distance when the face says so (causes, not symptoms)."""
        body = self.body
        if body is None:
            return Reason.NO_HANDS
        if body.waist > 1 + self.t.frame_tolerance:
            return Reason.MOVE_BACK  # so close that the hands are below the frame
        if body.share < self.t.min_signer_share:
            return Reason.MOVE_CLOSER  # too small for the hand model
        return Reason.NO_HANDS

    def _body(self) -> _Body | None:
        t = self.t
        faces = [s.face_box for s in self.samples if s.face and s.face_box is not None]
        if not faces:
            return None
        x0, y0, x1, y1 = (statistics.median(box[i] for box in faces) for i in range(4))
        face_w, face_h = x1 - x0, y1 - y0
        centre = (x0 + x1) / 2
        body = (centre - t.reach_faces * face_w, y0 - t.head_faces * face_h, centre + t.reach_faces * face_w)
        waist = y0 + t.waist_faces * face_h
        left, top, right = body
        bottom = waist
        for s in self.samples:
            for hx0, hy0, hx1, hy1 in s.hand_boxes:
                left, top, right, bottom = min(left, hx0), min(top, hy0), max(right, hx1), max(bottom, hy1)
        cl, ct, cr, cb = max(0.0, left), max(0.0, top), min(1.0, right), min(1.0, bottom)
        share = max(0.0, cr - cl) * max(0.0, cb - ct)
        return _Body(
            head_top=body[1],
            waist=waist,
            left=body[0],
            right=body[2],
            share=share,
            centre_x=(cl + cr) / 2,
            face_height=face_h,
        )

    def framing(self) -> CriterionResult:
        t = self.t
        extents = [s.hand_extent for s in self.samples if s.hands > 0 and s.hand_extent is not None]
        cut_off = _share([s.cut_off for s in self.samples if s.hands > 0])
        extent = _median(extents)
        body = self.body
        self.metrics["cut_off_share"] = cut_off
        self.metrics["hand_extent"] = extent
        for name in ("head_top", "waist", "left", "right", "share", "centre_x", "face_height"):
            value = getattr(body, name) if body is not None else None
            self.metrics[f"signer_{name}"] = round(value, 3) if value is not None else None
        share = body.share if body is not None else None
        threshold = t.min_signer_share
        if cut_off is not None and cut_off > t.max_cut_off_share:
            return self._result(Criterion.FRAMING, share, threshold, Reason.HANDS_CUT_OFF)
        if extent is not None and extent > t.max_hand_extent:
            return self._result(Criterion.FRAMING, share, threshold, Reason.HANDS_TOO_BIG)
        if body is None:
            # Without a face the body cannot be placed: not measured (never shown as Good).
            return self._result(Criterion.FRAMING, None, threshold, None, measured=False)
        tol = t.frame_tolerance
        too_close = body.waist > 1 + tol or (body.left < -tol and body.right > 1 + tol)
        if too_close:
            return self._result(Criterion.FRAMING, share, threshold, Reason.MOVE_BACK)
        if body.head_top < -tol:
            return self._result(Criterion.FRAMING, share, threshold, Reason.HEAD_CUT_OFF)
        if body.share < t.min_signer_share:
            return self._result(Criterion.FRAMING, share, threshold, Reason.MOVE_CLOSER)
        if abs(body.centre_x - 0.5) > t.max_off_centre or body.left < -tol or body.right > 1 + tol:
            return self._result(Criterion.FRAMING, share, threshold, Reason.MOVE_TO_CENTRE)
        return self._result(Criterion.FRAMING, share, threshold, None)

    def face(self) -> CriterionResult:
        share = _share([s.face for s in self.samples if s.face is not None])
        self.metrics["face_share"] = share
        missing = share is None or share < self.t.min_face_share
        return self._result(Criterion.FACE, share, self.t.min_face_share, Reason.NO_FACE if missing else None)

    def _dark(self) -> bool:
        luma = _median([s.light.luma for s in self.samples])
        black = _median([s.light.black_share for s in self.samples])
        return (
            luma is not None
            and black is not None
            and (luma < self.t.min_luma or black > self.t.max_black_share)
        )

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

    def _bits_per_pixel(self) -> float | None:
        report, latest = self.report, self.notes[-1] if self.notes else None
        if report is None or report.bitrate_kbps is None or latest is None:
            return None
        fps = report.fps or self.metrics.get("fps")
        if not isinstance(fps, int | float) or fps <= 0:
            return None
        return report.bitrate_kbps * 1000 / (latest.width * latest.height * fps)

    def sharpness(self) -> CriterionResult:
        t = self.t
        value = _median([s.sharpness for s in self.samples if s.sharpness is not None])
        blocks = _median([s.blockiness for s in self.samples if s.blockiness is not None])
        bpp = self._bits_per_pixel()
        self.metrics["sharpness"] = value
        self.metrics["blockiness"] = blocks
        self.metrics["bits_per_pixel"] = round(bpp, 4) if bpp is not None else None
        if blocks is not None and blocks > t.max_blockiness:
            return self._result(Criterion.SHARPNESS, blocks, t.max_blockiness, Reason.COMPRESSED)
        if bpp is not None and bpp < t.min_bits_per_pixel:
            return self._result(Criterion.SHARPNESS, bpp, t.min_bits_per_pixel, Reason.COMPRESSED)
        if value is not None and value < t.min_sharpness:
            # A soft picture from a sender that says its bandwidth is short is the codec's doing.
            cause = Reason.COMPRESSED if self._limited_by() is Reason.SLOW_CONNECTION else Reason.BLURRED
            return self._result(Criterion.SHARPNESS, value, t.min_sharpness, cause)
        # No edges at all to judge focus by (a black frame): not measured, never Good.
        return self._result(Criterion.SHARPNESS, value, t.min_sharpness, None, measured=value is not None)

    def frozen(self) -> CriterionResult:
        t = self.t
        stopped = self._camera_stopped()
        latest = self.history[-1].timestamp_s if self.history else 0.0
        recent = [s for s in self.history if s.timestamp_s >= latest - t.freeze_span_s - EPSILON_S]
        moves = [s.motion for s in recent if s.motion is not None]
        shifts = [s.landmark_shift for s in recent if s.landmark_shift is not None]
        # The median, so a keyframe re-coding a still picture (a spike every second) does not pass
        # for motion, and the still turns of a breathing person do not pass for a freeze.
        peak = _median(moves)
        self.metrics["motion"] = round(peak, 3) if peak is not None else None
        self.metrics["landmark_shift"] = round(max(shifts), 5) if shifts else None
        if stopped:
            # What the sender knows is decisive, even before (or without) any frame.
            return self._result(Criterion.FROZEN, peak, t.frozen_motion, Reason.CAMERA_STOPPED, ready=True)
        moving = peak is not None and peak >= t.frozen_motion
        # Still for the whole span (measured from the first frame that has a comparison).
        timed = [s.timestamp_s for s in recent if s.motion is not None]
        long_enough = bool(timed) and timed[-1] - timed[0] >= t.freeze_span_s - t.motion_lag_s - EPSILON_S
        ready = self.complete and (moving or long_enough)
        failure = None if moving else Reason.FROZEN
        return self._result(Criterion.FROZEN, peak, t.frozen_motion, failure, ready=ready)
