"""What the QA pages chart and list, worked out from the API's figures, for the server to render.

Each chart is a `Chart`: the page renders its title, a one-sentence summary and its data table (the
text alternative: a chart alone reaches no screen-reader user), and static/js/qa-charts.js draws it
from `chart_data(...)`. Labels are made here, in the page's language, so the script needs no i18n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from signlink.records import quality as quality_rule
from signlink.web.qa_format import MISSING, Fmt, parse_time

# EN 301 549 §6.5: at least 20 fps for sign language; over 0.8 s of delay "hinders a good sign
# conversation". Samples carry the records' delay estimate (delay_ms, records/quality.py); the page
# marks each sample against the same limits; whether the call is flagged is the records' rule.
MIN_FPS = quality_rule.MIN_FPS
MAX_DELAY_MS = quality_rule.MAX_DELAY_MS
HOUR_S = 3600


@dataclass(frozen=True)
class Chart:
    id: str
    kind: str  # "line" (over time), "bars" (one series, vertical), "hbars" (grouped, horizontal)
    title: str
    summary: str
    labels: list[str]
    series: list[str]
    values: list[list[float | None]]
    unit: str = ""
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    limit: float | None = None
    limit_label: str = ""
    integer: bool = True  # counts: whole-number axis steps


def chart_data(charts: Sequence[Chart]) -> dict[str, Any]:
    """What the page embeds for qa-charts.js (JSON)."""
    return {
        c.id: {
            "kind": c.kind,
            "labels": c.labels,
            "series": [{"name": n, "values": v} for n, v in zip(c.series, c.values, strict=True)],
            "unit": c.unit,
            "limit": c.limit,
            "limitLabel": c.limit_label,
            "integer": c.integer,
        }
        for c in charts
        if c.labels
    }


# The overview


def overview_charts(fmt: Fmt, series: Mapping[str, Any], threshold_s: float | None) -> list[Chart]:
    buckets = series.get("buckets") or []
    hourly = series.get("bucket_s") == HOUR_S if "bucket_s" in series else _looks_hourly(buckets)
    charts = [_calls_over_time(fmt, buckets, hourly)]
    if any(b.get("max_waiting") is not None for b in buckets):
        charts.append(_waiting_over_time(fmt, buckets, hourly))
    charts += [
        _answer_times(fmt, series.get("answer_time_histogram") or [], threshold_s),
        _breakdown(fmt, "by_language", series.get("by_language") or [], "sl"),
        _breakdown(fmt, "by_topic", series.get("by_topic") or [], "topic"),
    ]
    return charts


def _calls_over_time(fmt: Fmt, buckets: Sequence[Mapping[str, Any]], hourly: bool) -> Chart:
    """Customers who came, were answered and left unanswered, per hour or day (one scale)."""
    labels = [_bucket_label(b.get("t"), hourly) for b in buckets]
    columns = (
        ("tickets", "qa.chart.joined"),
        ("answered", "qa.chart.answered"),
        ("abandoned", "qa.chart.abandoned"),
    )
    values = [[_num(b.get(name)) for b in buckets] for name, _ in columns]
    names = [fmt.t(key) for _, key in columns]
    total = sum(v or 0 for v in values[0])
    if total:
        peak = max(range(len(buckets)), key=lambda i: values[0][i] or 0)
        summary = fmt.plural(
            "qa.chart.calls_summary",
            total,
            shown=fmt.number(total),
            peak=fmt.number(values[0][peak]),
            when=labels[peak],
            answered=fmt.number(sum(v or 0 for v in values[1])),
            abandoned=fmt.number(sum(v or 0 for v in values[2])),
        )
    else:
        summary = fmt.t("qa.chart.empty")
    return Chart(
        id="calls",
        kind="line",
        title=fmt.t("qa.chart.calls_hour" if hourly else "qa.chart.calls_day"),
        summary=summary,
        labels=labels if total else [],
        series=names,
        values=values,
        head=[fmt.t("qa.chart.time_utc"), *names],
        rows=[[labels[i], *(fmt.number(col[i]) for col in values)] for i in range(len(buckets))]
        if total
        else [],
    )


def _waiting_over_time(fmt: Fmt, buckets: Sequence[Mapping[str, Any]], hourly: bool) -> Chart:
    """The most customers waiting at one moment, per hour or day."""
    labels = [_bucket_label(b.get("t"), hourly) for b in buckets]
    values = [_num(b.get("max_waiting")) or 0.0 for b in buckets]
    name = fmt.t("qa.chart.max_waiting")
    if any(values):
        peak = max(range(len(values)), key=lambda i: values[i])
        summary = fmt.plural(
            "qa.chart.waiting_summary", values[peak], shown=fmt.number(values[peak]), when=labels[peak]
        )
    else:
        summary = fmt.t("qa.chart.nobody_waited")
    return Chart(
        id="waiting",
        kind="bars",
        title=fmt.t("qa.chart.waiting_hour" if hourly else "qa.chart.waiting_day"),
        summary=summary,
        labels=labels if any(values) else [],
        series=[name],
        values=[list[float | None](values)],
        head=[fmt.t("qa.chart.time_utc"), name],
        rows=[[label, fmt.number(v)] for label, v in zip(labels, values, strict=True)] if any(values) else [],
    )


def _answer_times(fmt: Fmt, histogram: Sequence[Mapping[str, Any]], threshold_s: float | None) -> Chart:
    labels, counts = [], []
    previous: float | None = None
    last = max((i for i, item in enumerate(histogram) if _num(item.get("count"))), default=-1)
    for item in histogram[: last + 1]:
        le = _num(item.get("le_s"))
        if le is None or math.isinf(le):
            labels.append(fmt.t("qa.chart.over", limit=fmt.limit(previous)) if previous else MISSING)
        else:
            labels.append(fmt.t("qa.chart.up_to", limit=fmt.limit(le)))
            previous = le
        counts.append(_num(item.get("count")) or 0.0)
    total = sum(counts)
    if total and threshold_s is not None:
        within = sum(
            _num(item.get("count")) or 0.0
            for item in histogram
            if (le := _num(item.get("le_s"))) is not None and le <= threshold_s
        )
        summary = fmt.t(
            "qa.chart.answer_time_summary",
            total=fmt.number(total),
            within=fmt.number(within),
            after=fmt.number(total - within),
            limit=fmt.limit(threshold_s),
        )
    else:
        summary = fmt.t("qa.chart.empty")
    name = fmt.t("qa.chart.calls")
    return Chart(
        id="answer_time",
        kind="bars",
        title=fmt.t("qa.chart.answer_time"),
        summary=summary,
        labels=labels if total else [],
        series=[name],
        values=[list(counts)] if total else [[]],
        head=[fmt.t("qa.chart.answered_within"), name],
        rows=[[label, fmt.number(c)] for label, c in zip(labels, counts, strict=True)] if total else [],
    )


def _breakdown(fmt: Fmt, chart_id: str, items: Sequence[Mapping[str, Any]], group: str) -> Chart:
    ordered = sorted(items, key=lambda i: -(_num(i.get("tickets")) or 0))
    labels = [fmt.label(group, i.get("key")) if group == "topic" else str(i.get("key")) for i in ordered]
    answered = [_num(i.get("answered")) for i in ordered]
    abandoned = [_num(i.get("abandoned")) for i in ordered]
    names = [fmt.t("qa.chart.answered"), fmt.t("qa.chart.abandoned")]
    if ordered:
        rated = [i for i in ordered if _num(i.get("sl_share")) is not None]
        worst = min(rated, key=lambda i: _num(i.get("sl_share")) or 0.0) if rated else None
        summary = fmt.t(
            "qa.chart.breakdown_summary",
            top=labels[0],
            tickets=fmt.number(ordered[0].get("tickets")),
        )
        if worst is not None and len(rated) > 1:
            worst_label = labels[ordered.index(worst)]
            summary += " " + fmt.t(
                "qa.chart.breakdown_worst", name=worst_label, share=fmt.pct(worst.get("sl_share"))
            )
    else:
        summary = fmt.t("qa.chart.empty")
    head_key = "qa.col.language" if group == "sl" else "qa.col.topic"
    return Chart(
        id=chart_id,
        kind="hbars",
        title=fmt.t(f"qa.chart.{chart_id}"),
        summary=summary,
        labels=labels,
        series=names,
        values=[answered, abandoned],
        head=[fmt.t(head_key), fmt.t("qa.chart.tickets"), *names, fmt.t("qa.chart.service_level")],
        rows=[
            [label, fmt.number(i.get("tickets")), fmt.number(a), fmt.number(b), fmt.pct(i.get("sl_share"))]
            for label, i, a, b in zip(labels, ordered, answered, abandoned, strict=True)
        ],
    )


# One session


def marked_quality(fmt: Fmt, quality: Mapping[str, Any]) -> dict[str, Any]:
    """The quality record with each sample marked where it falls below what signing needs."""
    samples = []
    for sample in sorted(quality.get("samples") or [], key=lambda s: _sort_time(s.get("at"))):
        fps, delay = _num(sample.get("fps")), _num(sample.get("delay_ms"))
        samples.append(
            {
                **sample,
                "low_fps": fps is not None and fps < MIN_FPS,
                "high_delay": delay is not None and delay > MAX_DELAY_MS,
            }
        )
    return {
        **quality,
        "samples": samples,
        "flagged": bool(quality.get("flagged")),
        "reason_texts": [
            reason_text(fmt, r) for r in quality.get("findings") or quality.get("reasons") or []
        ],
    }


def quality_charts(fmt: Fmt, samples: Sequence[Mapping[str, Any]]) -> list[Chart]:
    if not samples:
        return []
    times = sorted({fmt.when(s.get("at"))[11:] for s in samples})
    sides = [side for side in ("customer", "agent") if any(s.get("side") == side for s in samples)]
    charts = []
    for chart_id, metric, unit, limit, limit_key in (
        ("fps", "fps", fmt.t("qa.unit.fps"), MIN_FPS, "qa.quality.fps_limit"),
        ("delay", "delay_ms", fmt.t("qa.unit.ms"), MAX_DELAY_MS, "qa.quality.delay_limit"),
    ):
        values = []
        for side in sides:
            by_time = {
                fmt.when(s.get("at"))[11:]: _num(s.get(metric)) for s in samples if s.get("side") == side
            }
            values.append([by_time.get(t) for t in times])
        measured = [v for row in values for v in row if v is not None]
        if not measured:
            continue
        worst = min(measured) if metric == "fps" else max(measured)
        charts.append(
            Chart(
                id=chart_id,
                kind="line",
                title=fmt.t(f"qa.quality.chart_{chart_id}"),
                summary=fmt.t(
                    f"qa.quality.summary_{chart_id}",
                    worst=fmt.number(worst),
                    avg=fmt.number(sum(measured) / len(measured)),
                ),
                labels=times,
                series=[fmt.label("qa.side", side) for side in sides],
                values=values,
                unit=unit,
                limit=limit,
                limit_label=fmt.t(limit_key),
                integer=False,
            )
        )
    return charts


def timeline(fmt: Fmt, steps: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ticket's steps in time order, each with its detail said in words."""
    ordered = sorted(steps, key=lambda s: _sort_time(s.get("at")))
    return [{**s, "detail_text": _detail_text(fmt, s.get("detail"), names)} for s in ordered]


# Detail keys that are ids for machines, not facts for a reader.
_HIDDEN_DETAILS = frozenset({"offer_id", "session_id"})
# How each detail's value is said: a label group for codes, or a special form.
_DETAIL_LABELS = {
    "by": "qa.by",
    "reason": "qa.reason",
    "outcome": "qa.wrap",
    "status": "qa.check",
    "priority_class": "qa.class",
    "topic": "topic",
    "from_topic": "topic",
    "to_topic": "topic",
}


def _detail_text(fmt: Fmt, detail: object, names: Mapping[str, str]) -> str:
    if detail is None or detail in ("", {}):
        return ""
    if not isinstance(detail, Mapping):
        return str(detail)
    parts = []
    for key, value in detail.items():
        if value is None or value in ("", []) or key in _HIDDEN_DETAILS:
            continue
        if key in ("agent_id", "agent"):
            text = names.get(str(value), str(value))
        elif key.endswith("_s") and isinstance(value, int | float):
            text = fmt.duration(value)
        elif key == "failing" and isinstance(value, list):
            text = ", ".join(fmt.label("crit", v) for v in value)
        elif key == "rating":
            text = f"{value} / 5"
        elif key in _DETAIL_LABELS:
            text = fmt.label(_DETAIL_LABELS[key], value)
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        parts.append(f"{fmt.label('qa.detail', key)}: {text}")
    return " · ".join(parts)


def reason_text(fmt: Fmt, reason: object) -> str:
    """A flag reason: a code ("low_fps") or a finding ({"reason", "side", "bad", "measured", ...})."""
    if not isinstance(reason, Mapping):
        return fmt.label("qa.reason", reason)
    text = fmt.label("qa.reason", reason.get("reason"))
    measured = reason.get("measured")
    if reason.get("side") and isinstance(measured, int | float) and measured:
        text += " " + fmt.plural(
            "qa.quality.finding",
            measured,
            shown=fmt.number(measured),
            side=fmt.label("qa.side_of", reason.get("side")),
            bad=fmt.number(reason.get("bad")),
        )
    return text


# small helpers


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _sort_time(at: object) -> float:
    moment = parse_time(at)
    return moment.timestamp() if moment else 0.0


def _looks_hourly(buckets: Sequence[Mapping[str, Any]]) -> bool:
    times = [_num(b.get("t")) for b in buckets[:2]]
    return len(times) == 2 and None not in times and 0 < (times[1] or 0) - (times[0] or 0) < 86400


def _bucket_label(t: object, hourly: bool) -> str:
    moment = parse_time(t)
    if moment is None:
        return MISSING
    return moment.strftime("%m-%d %H:00") if hourly else moment.strftime("%Y-%m-%d")
