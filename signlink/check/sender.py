"""What the sending browser knows of its own video, parsed and validated at the edge.

The page posts its getStats() figures and the camera track's `muted` flag during a check; the live
session stamps each report with the stream's clock and hands it to the analyser
(`add_sender_report`, signlink.quality). Bad input is a 400 with the field named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from signlink.errors import BadRequest

MAX_REPORT_BYTES = 2048
LIMITATION_REASONS = frozenset({"none", "bandwidth", "cpu", "other"})
# Ranges a real sender stays inside; beyond them the figure is a bug or a lie.
_RANGES: dict[str, tuple[float, float]] = {
    "fps": (0.0, 240.0),
    "bitrate_kbps": (0.0, 100_000.0),
    "packet_loss": (0.0, 1.0),
}
MAX_FRAMES_ENCODED = 2**31
FIELDS = frozenset({*_RANGES, "quality_limitation_reason", "frames_encoded", "track_muted"})


# The quality engineer's contract (signlink.quality.window.SenderReport): same fields, same types.
# At merge, import theirs here instead; nothing else in check/ changes.
@dataclass(frozen=True)
class SenderReport:
    t_s: float  # the stream's clock (the frames' timestamps), stamped by the server
    fps: float | None
    bitrate_kbps: float | None
    quality_limitation_reason: str | None
    packet_loss: float | None
    frames_encoded: int | None
    track_muted: bool | None


@runtime_checkable
class TakesSenderReports(Protocol):
    """An analyser that uses sender reports (signlink.quality's Analyser.add_sender_report)."""

    def add_sender_report(self, report: SenderReport) -> None: ...


def _bad(message: str) -> BadRequest:
    return BadRequest(f"bad sender report: {message}", code="bad_report")


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"{name} must be a finite number or null")
    low, high = _RANGES[name]
    if not low <= value <= high:
        raise _bad(f"{name} must be within {low:g}..{high:g}")
    return float(value)


def parse_report(body: object, t_s: float) -> SenderReport:
    """A SenderReport from the page's JSON object, stamped at `t_s`; BadRequest naming the field."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise _bad(f"unknown field {unknown[0]!r}")
    reason = body.get("quality_limitation_reason")
    if reason is not None and reason not in LIMITATION_REASONS:
        raise _bad(f"quality_limitation_reason must be one of {', '.join(sorted(LIMITATION_REASONS))}")
    frames = body.get("frames_encoded")
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int)):
        raise _bad("frames_encoded must be an integer or null")
    if frames is not None and not 0 <= frames <= MAX_FRAMES_ENCODED:
        raise _bad(f"frames_encoded must be within 0..{MAX_FRAMES_ENCODED}")
    muted = body.get("track_muted")
    if muted is not None and not isinstance(muted, bool):
        raise _bad("track_muted must be true, false or null")
    return SenderReport(
        t_s=t_s,
        fps=_number(body, "fps"),
        bitrate_kbps=_number(body, "bitrate_kbps"),
        quality_limitation_reason=reason,
        packet_loss=_number(body, "packet_loss"),
        frames_encoded=frames,
        track_muted=muted,
    )
