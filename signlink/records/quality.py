"""Call quality: the browsers' WebRTC samples, how they are packed in Redis, and the flag rule (pure).

Each side of a call sends a `stats` message every 10 s (static/js/call-stats.js) summarising what it
*receives*: the other side's video as it arrives here. A sample is measured over the last interval:
    rtt_ms            candidate-pair currentRoundTripTime
    packet_loss       lost / (lost + received) video packets, 0..1
    jitter_ms         inbound-rtp jitter
    jitter_buffer_ms  average jitter-buffer delay of the frames emitted (optional)
    fps               inbound-rtp framesPerSecond
    width, height     inbound-rtp frameWidth / frameHeight
    freezes           freezeCount increase
Any of them may be unknown (None).

The flag rule (EN 301 549 §6.5.1, informative: 20 frames per second and over give good usability;
"values [of overall delay] over 0,8 s are felt to hinder a good sign conversation"):
- A sample is *low_fps* when fps < 20, *high_delay* when the estimated delay > 800 ms.
- Delay is estimated as rtt_ms / 2 (one way) + jitter_buffer_ms (or, when the browser does not report
  the buffer, jitter_ms). Capture, encoding and rendering add to it, so this is a lower bound: a call
  flagged for delay certainly had too much of it.
- Per side (what one party saw), a reason holds when its bad samples are a majority of that side's
  samples that measured it (at least 2 of them), or when 3 samples in a row are bad (30 s sustained).
  One bad sample (e.g. the ramp-up at the start of a call) never flags a call.
- The call is flagged when any reason holds on either side.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

MIN_FPS = 20.0
MAX_DELAY_MS = 800.0
SUSTAINED_SAMPLES = 3  # 3 samples x 10 s
MAJORITY_MIN_BAD = 2
MAX_SAMPLES_PER_SESSION = 1440  # two sides, every 10 s, for two hours


class Side(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class Reason(StrEnum):
    LOW_FPS = "low_fps"
    HIGH_DELAY = "high_delay"


@dataclass(frozen=True)
class QualitySample:
    at: float  # epoch seconds (server clock, when it arrived)
    side: Side
    rtt_ms: float | None = None
    packet_loss: float | None = None
    jitter_ms: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    freezes: int | None = None
    jitter_buffer_ms: float | None = None

    @property
    def delay_ms(self) -> float | None:
        """Estimated one-way delay (a lower bound, see the module docstring); None if RTT is unknown."""
        if self.rtt_ms is None:
            return None
        buffer = self.jitter_buffer_ms if self.jitter_buffer_ms is not None else self.jitter_ms
        return self.rtt_ms / 2 + (buffer or 0.0)

    def bad(self, reason: Reason) -> bool | None:
        """Is this sample below signing needs for `reason`? None: not measured."""
        if reason is Reason.LOW_FPS:
            return None if self.fps is None else self.fps < MIN_FPS
        delay = self.delay_ms
        return None if delay is None else delay > MAX_DELAY_MS

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at,
            "side": self.side.value,
            "rtt_ms": self.rtt_ms,
            "packet_loss": self.packet_loss,
            "jitter_ms": self.jitter_ms,
            "jitter_buffer_ms": self.jitter_buffer_ms,
            "delay_ms": None if self.delay_ms is None else round(self.delay_ms, 1),
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "freezes": self.freezes,
        }


# Packing: 23 bytes a sample, appended to one Redis string per session (a JSON object would be ~200).
# uint32 epoch s, uint16 ms, uint8 side, then uint16 each: rtt ms, loss 1e-4, jitter 0.1 ms,
# jitter buffer ms, fps 0.1, width, height, freezes. 0xFFFF = unknown.
_FORMAT = struct.Struct("<IHB8H")
SAMPLE_BYTES = _FORMAT.size
_NONE = 0xFFFF
_MAX = 0xFFFE
_SIDES = (Side.CUSTOMER, Side.AGENT)


def _u16(value: float | None, scale: float) -> int:
    if value is None or not math.isfinite(value):
        return _NONE
    return max(0, min(_MAX, round(value * scale)))


def _back(raw: int, scale: float) -> float | None:
    return None if raw == _NONE else raw / scale


def _back_int(raw: int) -> int | None:
    return None if raw == _NONE else raw


def pack(sample: QualitySample) -> bytes:
    seconds = math.floor(sample.at)
    return _FORMAT.pack(
        seconds,
        min(999, round((sample.at - seconds) * 1000)),
        _SIDES.index(sample.side),
        _u16(sample.rtt_ms, 1),
        _u16(sample.packet_loss, 10_000),
        _u16(sample.jitter_ms, 10),
        _u16(sample.jitter_buffer_ms, 1),
        _u16(sample.fps, 10),
        _u16(sample.width, 1),
        _u16(sample.height, 1),
        _u16(sample.freezes, 1),
    )


def unpack(data: bytes) -> list[QualitySample]:
    """Every whole sample in `data` (a torn tail, which cannot happen with APPEND, is ignored)."""
    out = []
    for offset in range(0, len(data) - SAMPLE_BYTES + 1, SAMPLE_BYTES):
        s, ms, side, rtt, loss, jitter, buffer, fps, width, height, freezes = _FORMAT.unpack_from(
            data, offset
        )
        out.append(
            QualitySample(
                at=s + ms / 1000,
                side=_SIDES[side] if side < len(_SIDES) else Side.CUSTOMER,
                rtt_ms=_back(rtt, 1),
                packet_loss=_back(loss, 10_000),
                jitter_ms=_back(jitter, 10),
                jitter_buffer_ms=_back(buffer, 1),
                fps=_back(fps, 10),
                width=_back_int(width),
                height=_back_int(height),
                freezes=_back_int(freezes),
            )
        )
    return out


# The rule


@dataclass(frozen=True)
class Finding:
    reason: Reason
    side: Side
    bad: int  # samples below the need
    measured: int  # samples that measured it
    longest_run: int  # most bad samples in a row

    def to_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason.value,
            "side": self.side.value,
            "bad": self.bad,
            "measured": self.measured,
            "longest_run": self.longest_run,
        }


@dataclass(frozen=True)
class QualitySummary:
    """What the records keep of a call's samples: enough for the flag and for averages."""

    samples: int = 0
    fps_sum: float = 0.0
    fps_n: int = 0
    rtt_sum: float = 0.0
    rtt_n: int = 0
    loss_sum: float = 0.0
    loss_n: int = 0
    freezes: int = 0
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def reasons(self) -> list[str]:
        return sorted({f.reason.value for f in self.findings})

    def to_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "fps_sum": round(self.fps_sum, 3),
            "fps_n": self.fps_n,
            "rtt_sum": round(self.rtt_sum, 3),
            "rtt_n": self.rtt_n,
            "loss_sum": round(self.loss_sum, 6),
            "loss_n": self.loss_n,
            "freezes": self.freezes,
            "reasons": self.reasons,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> QualitySummary:
        """The stored form keeps the reasons only (not the per-side counts)."""

        def num(name: str) -> float:
            value = raw.get(name, 0)
            return float(value) if isinstance(value, int | float) else 0.0

        reasons = raw.get("reasons", [])
        findings = tuple(
            Finding(Reason(r), Side.CUSTOMER, 0, 0, 0)
            for r in (reasons if isinstance(reasons, list) else [])
            if r in Reason._value2member_map_
        )
        return cls(
            samples=int(num("samples")),
            fps_sum=num("fps_sum"),
            fps_n=int(num("fps_n")),
            rtt_sum=num("rtt_sum"),
            rtt_n=int(num("rtt_n")),
            loss_sum=num("loss_sum"),
            loss_n=int(num("loss_n")),
            freezes=int(num("freezes")),
            findings=findings,
        )


def findings(samples: Sequence[QualitySample]) -> list[Finding]:
    """Which reasons hold on which side (see the module docstring for the rule)."""
    out = []
    for side in Side:
        mine = sorted((s for s in samples if s.side is side), key=lambda s: s.at)
        for reason in Reason:
            bad = measured = run = longest = 0
            for sample in mine:
                verdict = sample.bad(reason)
                if verdict is None:
                    run = 0  # an unmeasured sample breaks a run: only proven stretches count
                    continue
                measured += 1
                if verdict:
                    bad += 1
                    run += 1
                    longest = max(longest, run)
                else:
                    run = 0
            majority = bad >= MAJORITY_MIN_BAD and bad * 2 > measured
            if majority or longest >= SUSTAINED_SAMPLES:
                out.append(Finding(reason, side, bad, measured, longest))
    return out


def summarise(samples: Iterable[QualitySample]) -> QualitySummary:
    items = list(samples)
    fps = [s.fps for s in items if s.fps is not None]
    rtt = [s.rtt_ms for s in items if s.rtt_ms is not None]
    loss = [s.packet_loss for s in items if s.packet_loss is not None]
    return QualitySummary(
        samples=len(items),
        fps_sum=sum(fps),
        fps_n=len(fps),
        rtt_sum=sum(rtt),
        rtt_n=len(rtt),
        loss_sum=sum(loss),
        loss_n=len(loss),
        freezes=sum(s.freezes or 0 for s in items),
        findings=tuple(findings(items)),
    )
