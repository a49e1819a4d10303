"""A verdict as a few lines of plain text, for the command line (words from the same locale catalogue)."""

from __future__ import annotations

from signlink.quality.messages import text
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict

# How each criterion's value reads: (format of the value, format of the limit).
_FORMATS: dict[Criterion, tuple[str, str]] = {
    Criterion.RESOLUTION: ("short side {:.0f} px", "min {:.0f}"),
    Criterion.FRAME_RATE: ("{:.1f} frames/s", "min {:.0f}"),
    Criterion.HANDS: ("hands in {:.0%} of frames", "min {:.0%}"),
    Criterion.FRAMING: ("signer {:.0%} of the frame", "min {:.0%}"),
    Criterion.FACE: ("face in {:.0%} of frames", "min {:.0%}"),
    Criterion.LIGHT: ("{:.0f}", "limit {:.0f}"),
    Criterion.SHARPNESS: ("{:.2f}", "limit {:.2f}"),
    Criterion.FROZEN: ("motion {:.1f}", "min {:.1f}"),
}
_MARKS = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.PENDING: "... ", Status.NOT_MEASURED: "n/m "}


def _line(result: CriterionResult, locale: str) -> str:
    value_format, limit_format = _FORMATS[result.criterion]
    value = "-" if result.value is None else value_format.format(result.value)
    limit = "" if result.threshold is None else f" ({limit_format.format(result.threshold)})"
    label = text(result.criterion.label)[locale]
    line = f"  {_MARKS[result.status]}  {result.criterion.value:<10}  {label}: {value}{limit}"
    if result.status is Status.NOT_MEASURED:
        line += f"  [{text('status.not_measured')[locale]}]"
    if result.status is Status.FAIL and result.advice:
        line += f"\n              -> {text(result.advice)[locale]}"
    return line


def describe(verdict: Verdict, *, name: str, media_s: float, window_s: float, locale: str = "en") -> str:
    if verdict.passed:
        head = f"{name}: PASSED after {media_s:.1f} s of video"
    elif not verdict.complete:
        head = f"{name}: FAILED: not enough video to judge ({media_s:.1f} s; the check needs {window_s:g} s)"
    else:
        head = f"{name}: FAILED"
    metrics = verdict.metrics
    fps = metrics.get("fps")
    rate = f"{fps:.1f} frames/s" if isinstance(fps, int | float) else "frame rate unknown"
    lines = [
        head,
        f"  video {metrics.get('width')}x{metrics.get('height')}, {rate}",
        *(_line(result, locale) for result in verdict.criteria),
    ]
    return "\n".join(lines)
