"""The camera check's measurements as QA reads them: each in words and with its unit, in both languages.

The analyser (signlink/quality/window.py) stores its measurements by code (`black_share`, `luma`);
a QA page never shows a code. Each code has a kind that says how its number is written ("85% of
frames", "24.8 fps", "128 / 255") and a label `qa.metric.<code>` in the catalogues. A criterion's
"measured" cell shows the measurements that criterion is judged on.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from signlink.web.qa_format import MISSING, Fmt


class Kind(StrEnum):
    FRAMES_SHARE = "frames_share"  # 0..1 of the analysed frames
    PICTURE_SHARE = "picture_share"  # 0..1 of the picture's short side
    PIXEL_SHARE = "pixel_share"  # 0..1 of the signer's pixels
    PX = "px"
    FPS = "fps"
    SECONDS = "s"
    FRAMES = "frames"  # a count of frames
    LUMA = "luma"  # 0..255
    SCORE = "score"  # a unitless figure the label explains
    AREA_SHARE = "area_share"  # 0..1 of the picture's area
    HEIGHT_SHARE = "height_share"  # 0..1 of the picture's height
    FROM_TOP = "from_top"  # a position, 0 (top edge) .. 1 (bottom edge); below 0 is above the picture
    FROM_LEFT = "from_left"  # a position, 0 (left edge) .. 1 (right edge)


# Every code window.py writes, in the order QA reads them (what was seen, then the picture).
METRICS: dict[str, Kind] = {
    "hand_share": Kind.FRAMES_SHARE,
    "two_hands_share": Kind.FRAMES_SHARE,
    "cut_off_share": Kind.FRAMES_SHARE,
    "hand_extent": Kind.PICTURE_SHARE,
    "face_share": Kind.FRAMES_SHARE,
    "luma": Kind.LUMA,
    "frame_luma": Kind.LUMA,
    "black_share": Kind.PIXEL_SHARE,
    "white_share": Kind.PIXEL_SHARE,
    "contrast": Kind.SCORE,
    "sharpness": Kind.SCORE,
    "blockiness": Kind.SCORE,
    "bits_per_pixel": Kind.SCORE,
    "motion": Kind.SCORE,
    "landmark_shift": Kind.SCORE,
    "signer_share": Kind.AREA_SHARE,
    "signer_head_top": Kind.FROM_TOP,
    "signer_waist": Kind.FROM_TOP,
    "signer_left": Kind.FROM_LEFT,
    "signer_right": Kind.FROM_LEFT,
    "signer_centre_x": Kind.FROM_LEFT,
    "signer_face_height": Kind.HEIGHT_SHARE,
    "fps": Kind.FPS,
    "frames": Kind.FRAMES,
    "analysed_frames": Kind.FRAMES,
    "width": Kind.PX,
    "height": Kind.PX,
    "window_s": Kind.SECONDS,
}

# The measurements each criterion is judged on (window.py), for its "measured" cell.
CRITERION_METRICS: dict[str, tuple[str, ...]] = {
    "hands": ("hand_share",),
    "framing": ("signer_share", "cut_off_share", "hand_extent"),
    "face": ("face_share",),
    "light": ("luma", "contrast"),
    "sharpness": ("sharpness", "blockiness"),
    "frame_rate": ("fps",),
    "frozen": ("motion",),
    "resolution": ("width", "height"),
}


def value_text(fmt: Fmt, kind: Kind, value: object) -> str:
    """A measurement with its unit; an en dash when it was not measured."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING
    match kind:
        case (
            Kind.FRAMES_SHARE
            | Kind.PICTURE_SHARE
            | Kind.PIXEL_SHARE
            | Kind.AREA_SHARE
            | Kind.HEIGHT_SHARE
            | Kind.FROM_TOP
            | Kind.FROM_LEFT
        ):
            return fmt.t(f"qa.metric.unit.{kind.value}", pct=fmt.pct(value))
        case Kind.PX:
            return f"{fmt.number(value)} {fmt.t('qa.unit.px')}"
        case Kind.FPS:
            return f"{fmt.number(value, 1)} {fmt.t('qa.unit.fps')}"
        case Kind.SECONDS:
            return f"{fmt.number(value, 1)} {fmt.t('qa.unit.s')}"
        case Kind.FRAMES:
            return fmt.plural("qa.metric.unit.frames", value, shown=fmt.number(value))
        case Kind.LUMA:
            return f"{fmt.number(value)} / 255"
        case Kind.SCORE:
            return fmt.number(value, 1 if abs(value) >= 1 else 2)


def label(fmt: Fmt, code: str) -> str:
    return fmt.label("qa.metric", code)


def metric_rows(fmt: Fmt, check: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Every measurement of a check as (words, value with unit): known codes in METRICS order, then any
    other in code order (a newer analyser's) with its code as the label and the bare value."""
    metrics = (check or {}).get("metrics") or {}
    if not isinstance(metrics, Mapping):
        return []
    known = [(label(fmt, c), value_text(fmt, METRICS[c], metrics[c])) for c in METRICS if c in metrics]
    other = sorted(str(c) for c in metrics if c not in METRICS)
    return known + [(c, fmt.number(metrics[c], 2)) for c in other]


def measured_text(fmt: Fmt, criterion: str, check: Mapping[str, Any], value: object) -> str:
    """A criterion's "measured" cell: the measurements it is judged on, with units."""
    metrics = check.get("metrics") or {}
    codes = CRITERION_METRICS.get(criterion, ())
    if not isinstance(metrics, Mapping) or not any(metrics.get(c) is not None for c in codes):
        # An older record without measurements: the criterion's own value, as a bare number.
        return fmt.number(value, 2) if isinstance(value, int | float) else MISSING
    if criterion == "resolution":
        return (
            f"{fmt.number(metrics.get('width'))} × {fmt.number(metrics.get('height'))} {fmt.t('qa.unit.px')}"
        )
    parts = [value_text(fmt, METRICS[c], metrics.get(c)) for c in codes]
    if len(parts) == 1:
        return parts[0]
    return fmt.t("list.sep").join(
        fmt.t("qa.metric.pair", name=fmt.t(f"qa.metric.short.{c}"), value=p)
        for c, p in zip(codes, parts, strict=True)
    )


def criteria_rows(fmt: Fmt, check: Mapping[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """The check's criteria, failing ones first, each with what was measured as text."""
    if not check:
        return []
    rows = []
    for name, item in (check.get("criteria") or {}).items():
        value = item.get("value") if isinstance(item, Mapping) else None
        status = item.get("status") if isinstance(item, Mapping) else str(item)
        rows.append((name, {"status": status, "value_text": measured_text(fmt, name, check, value)}))
    return sorted(rows, key=lambda r: (r[1]["status"] == "pass", r[0]))
