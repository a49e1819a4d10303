"""QA figures from counters (pure): what one ticket adds, and summaries, percentiles, service levels.

Every figure is a sum of per-ticket contributions, so the same numbers come from the hourly roll-ups
in PostgreSQL (records/rollup.py adds each ticket's contribution to its join hour's row, and the
difference when the ticket changes) and from an aggregate over the tickets' rows (filters the roll-ups
do not have: agent, outcome, call quality, check; records/sql.py). Counters are flat dicts.

Definitions (docs/protocol.md, "QA API"):
- service level at T: tickets answered within T s / tickets that ended waiting (answered + abandoned);
  requests refused at once for want of an agent (unserved) are counted apart.
- time to answer: joining to the first acceptance by an agent; its distribution is a histogram with
  fixed bin edges (ANSWER_EDGES), percentiles and the service level at a T that is not an edge are
  interpolated linearly inside a bin.
- abandonment rate: abandoned / (answered + abandoned).
- handle time: per ended session, talk (connected to ended) + wrap-up (ended to wrapped up, once known).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from signlink.records.quality import Reason
from signlink.records.row import Row, SessionLine
from signlink.records.ticket import CheckStatus, Outcome

Counters = dict[str, float]

# Upper edges (s) of the time-to-answer bins; a bin holds (previous edge, edge]. The common service
# level targets (10, 20, 30, 60, 120 s) are edges, so their shares are exact.
ANSWER_EDGES: tuple[int, ...] = (
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    150,
    180,
    240,
    300,
    420,
    600,
    900,
    1200,
    1800,
    3600,
)
INF_BIN = "h:inf"
HIST_FIELDS: tuple[str, ...] = (*tuple(f"h:{e}" for e in ANSWER_EDGES), INF_BIN)
# Upper edges (s) of the check-duration bins (for /metrics); the same (previous, edge] bins.
CHECK_EDGES: tuple[int, ...] = (2, 4, 6, 8, 10, 15, 20, 30, 60)
CHECK_FIELDS: tuple[str, ...] = (*(f"cd:{e}" for e in CHECK_EDGES), "cd:inf")
OFFER_FIELDS = ("offers_made", "offers_accepted", "offers_declined", "offers_timed_out", "offers_cancelled")
TICKET_FIELDS = ("tickets", "answered", "abandoned", "unserved", "waiting", "transferred")
SUM_FIELDS = (
    "answer_sum",
    "abandon_wait_sum",
    "talk_sum",
    "wrap_sum",
    "handle_sum",
    "q_fps_sum",
    "q_rtt_sum",
    "q_loss_sum",
    "rating_sum",
    "check_dur_sum",
)
COUNT_FIELDS = (
    "talk_n",
    "wrap_n",
    "handle_n",
    "checked",
    "check_passed",
    "check_failed",
    "check_continued",
    "q_calls",
    "q_flagged",
    "q_fps_n",
    "q_rtt_n",
    "q_loss_n",
    "q_low_fps",
    "q_high_delay",
    "rating_n",
)
MAX_FIELDS = ("max_waiting",)  # combined by max, not sum (a gauge sampled into each bucket)
AGENT_FIELDS = (
    "handled",
    "handle_sum",
    "handle_n",
    "talk_sum",
    "offers",
    "declined",
    "timed_out",
    "rating_sum",
    "rating_n",
)
FAIL_PREFIX = "fail:"
TOP_FAILING = 5


def is_float_field(name: str) -> bool:
    """Sums are kept with HINCRBYFLOAT; every other counter is a whole number (HINCRBY)."""
    return name.endswith("_sum")


def answer_bin(seconds: float) -> str:
    return _bin("h", ANSWER_EDGES, seconds)


def check_bin(seconds: float) -> str:
    return _bin("cd", CHECK_EDGES, seconds)


def _bin(prefix: str, edges: Sequence[int], seconds: float) -> str:
    for edge in edges:
        if seconds <= edge:
            return f"{prefix}:{edge}"
    return f"{prefix}:inf"


# -- contributions -----------------------------------------------------------------------------------


@dataclass
class Contribution:
    """What one ticket adds: to its (language, topic) bucket fields, and to each agent's fields."""

    fields: Counters = field(default_factory=dict)
    agents: dict[str, Counters] = field(default_factory=dict)

    def add(self, name: str, value: float = 1) -> None:
        if value:
            self.fields[name] = self.fields.get(name, 0) + value

    def add_agent(self, agent: str, name: str, value: float = 1) -> None:
        if value and agent:
            mine = self.agents.setdefault(agent, {})
            mine[name] = mine.get(name, 0) + value


_OFFER_FIELD = {
    "accepted": "offers_accepted",
    "declined": "offers_declined",
    "timed_out": "offers_timed_out",
    "cancelled": "offers_cancelled",
}


def contribution(row: Row | None) -> Contribution:
    out = Contribution()
    if row is None:
        return out
    out.add("tickets")
    out.add(row.outcome.value)
    if row.transferred:
        out.add("transferred")
    if row.answer_s is not None:
        out.add("answer_sum", row.answer_s)
        out.add(answer_bin(row.answer_s))
    if row.outcome is Outcome.ABANDONED and row.waited_s is not None:
        out.add("abandon_wait_sum", row.waited_s)
    _add_offers(out, row)
    for s in row.sessions:
        _add_session(out, s)
    _add_check(out, row)
    _add_quality(out, row)
    return out


def _add_offers(out: Contribution, row: Row) -> None:
    for agent, outcome in row.offers:
        out.add("offers_made")
        if outcome in _OFFER_FIELD:
            out.add(_OFFER_FIELD[outcome])
        out.add_agent(agent, "offers")
        if outcome in ("declined", "timed_out"):
            out.add_agent(agent, outcome)


def _add_session(out: Contribution, s: SessionLine) -> None:
    out.add_agent(s.agent, "handled")
    if s.talk_s is not None:
        handle = s.talk_s + (s.wrap_s or 0.0)
        out.add("talk_sum", s.talk_s)
        out.add("talk_n")
        out.add("handle_sum", handle)
        out.add("handle_n")
        out.add_agent(s.agent, "talk_sum", s.talk_s)
        out.add_agent(s.agent, "handle_sum", handle)
        out.add_agent(s.agent, "handle_n")
    if s.talk_s is not None and s.wrap_s is not None:
        out.add("wrap_sum", s.wrap_s)
        out.add("wrap_n")
    if s.rating is not None:
        out.add("rating_sum", s.rating)
        out.add("rating_n")
        out.add_agent(s.agent, "rating_sum", s.rating)
        out.add_agent(s.agent, "rating_n")


def _add_check(out: Contribution, row: Row) -> None:
    if row.check != CheckStatus.NONE.value:
        out.add("checked")
        out.add(f"check_{row.check}")
        if row.check != CheckStatus.PASSED.value:
            for criterion in row.failing:
                out.add(FAIL_PREFIX + criterion)
    if row.check_s is not None:
        out.add("check_dur_sum", row.check_s)
        out.add(check_bin(row.check_s))


def _add_quality(out: Contribution, row: Row) -> None:
    samples, fps_sum, fps_n, rtt_sum, rtt_n, loss_sum, loss_n = row.quality
    if samples:
        out.add("q_calls")
        out.add("q_fps_sum", fps_sum)
        out.add("q_fps_n", fps_n)
        out.add("q_rtt_sum", rtt_sum)
        out.add("q_rtt_n", rtt_n)
        out.add("q_loss_sum", loss_sum)
        out.add("q_loss_n", loss_n)
    if row.flagged:
        out.add("q_flagged")
        for reason in row.reasons:
            if reason in (Reason.LOW_FPS.value, Reason.HIGH_DELAY.value):
                out.add(f"q_{reason}")


def difference(new: Counters, old: Counters) -> Counters:
    """new - old, leaving out what did not change."""
    out = {}
    for name in new.keys() | old.keys():
        delta = new.get(name, 0) - old.get(name, 0)
        if delta:
            out[name] = round(delta, 6) if is_float_field(name) else delta
    return out


def combine(into: Counters, more: Mapping[str, float]) -> Counters:
    for name, value in more.items():
        if name.endswith(MAX_FIELDS):
            into[name] = max(into.get(name, value), value)
        else:
            into[name] = into.get(name, 0) + value
    return into


def combine_all(parts: Iterable[Mapping[str, float]]) -> Counters:
    out: Counters = {}
    for part in parts:
        combine(out, part)
    return out


# -- figures -------------------------------------------------------------------------------------------


def _div(a: float, b: float, digits: int = 4) -> float | None:
    return round(a / b, digits) if b else None


def hist_counts(c: Mapping[str, float]) -> list[tuple[float, float]]:
    """(upper edge, count) per bin, in order; the last edge is math.inf."""
    edges = [float(e) for e in ANSWER_EDGES] + [math.inf]
    return [(edge, c.get(name, 0)) for edge, name in zip(edges, HIST_FIELDS, strict=True)]


def answered_within(c: Mapping[str, float], threshold_s: float) -> float:
    """Tickets answered within `threshold_s` (interpolated inside the bin that holds it)."""
    total, low = 0.0, 0.0
    for edge, count in hist_counts(c):
        if edge <= threshold_s:
            total += count
        else:
            if math.isfinite(edge) and threshold_s > low:
                total += count * (threshold_s - low) / (edge - low)
            break
        low = edge
    return total


def percentile(c: Mapping[str, float], q: float) -> float | None:
    """The q-quantile (0..1) of the time to answer, interpolated in its bin; None without answers.
    In the open last bin the answer is its lower edge (the true value is at least that)."""
    bins = hist_counts(c)
    n = sum(count for _, count in bins)
    if n <= 0:
        return None
    rank = q * n
    cumulative, low = 0.0, 0.0
    for edge, count in bins:
        if count and cumulative + count >= rank:
            if not math.isfinite(edge):
                return low
            return round(low + (rank - cumulative) / count * (edge - low), 3)
        cumulative += count
        low = edge
    return low


def service_level(c: Mapping[str, float], threshold_s: float) -> float | None:
    ended = c.get("answered", 0) + c.get("abandoned", 0)
    return _div(answered_within(c, threshold_s), ended)


def _avg(c: Mapping[str, float], total: str, count: str, digits: int = 1) -> float | None:
    value = _div(c.get(total, 0), c.get(count, 0), 6)
    return None if value is None else round(value, digits)


def _int(c: Mapping[str, float], name: str) -> int:
    return round(c.get(name, 0))


def top_failing(c: Mapping[str, float], limit: int = TOP_FAILING) -> list[dict[str, Any]]:
    found = [
        (name.removeprefix(FAIL_PREFIX), round(v)) for name, v in c.items() if name.startswith(FAIL_PREFIX)
    ]
    found = [(name, n) for name, n in found if n > 0]
    found.sort(key=lambda x: (-x[1], x[0]))
    return [{"criterion": name, "count": n} for name, n in found[:limit]]


def summary(c: Mapping[str, float], thresholds: Sequence[float]) -> dict[str, Any]:
    """The headline figures of a period (without the period itself)."""
    answered, abandoned = _int(c, "answered"), _int(c, "abandoned")
    checked = _int(c, "checked")
    return {
        "tickets": _int(c, "tickets"),
        "answered": answered,
        "abandoned": abandoned,
        "unserved": _int(c, "unserved"),
        "waiting": _int(c, "waiting"),
        "transferred": _int(c, "transferred"),
        "service_level": [{"threshold_s": t, "share": service_level(c, t)} for t in thresholds],
        "answer_time": {"avg_s": _avg(c, "answer_sum", "answered"), "p90_s": percentile(c, 0.9)},
        "abandonment_rate": _div(abandoned, answered + abandoned),
        "abandoned_wait": {"avg_s": _avg(c, "abandon_wait_sum", "abandoned")},
        "handle_time": {"avg_s": _avg(c, "handle_sum", "handle_n")},
        "talk_time": {"avg_s": _avg(c, "talk_sum", "talk_n")},
        "wrap_up_time": {"avg_s": _avg(c, "wrap_sum", "wrap_n")},
        "offers": {
            "made": _int(c, "offers_made"),
            "accepted": _int(c, "offers_accepted"),
            "declined": _int(c, "offers_declined"),
            "timed_out": _int(c, "offers_timed_out"),
            "cancelled": _int(c, "offers_cancelled"),
        },
        "check": {
            "checked": checked,
            "passed": _int(c, "check_passed"),
            "pass_rate": _div(c.get("check_passed", 0), checked),
            "continued_despite_failure": _int(c, "check_continued"),
            "top_failing": top_failing(c),
        },
        "quality": {
            "calls_with_samples": _int(c, "q_calls"),
            "flagged": _int(c, "q_flagged"),
            "low_fps": _int(c, "q_low_fps"),
            "high_delay": _int(c, "q_high_delay"),
            "avg_fps": _avg(c, "q_fps_sum", "q_fps_n"),
            "avg_rtt_ms": _avg(c, "q_rtt_sum", "q_rtt_n"),
            "avg_packet_loss": _avg(c, "q_loss_sum", "q_loss_n", 4),
        },
        "rating": {"count": _int(c, "rating_n"), "avg": _avg(c, "rating_sum", "rating_n", 2)},
    }


def histogram(c: Mapping[str, float]) -> list[dict[str, Any]]:
    """Time-to-answer bins: `le_s` the upper edge (null for the open last bin), `count` in the bin."""
    return [
        {"le_s": edge if math.isfinite(edge) else None, "count": round(count)}
        for edge, count in hist_counts(c)
    ]


def breakdown(by_key: Mapping[str, Mapping[str, float]], threshold_s: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "key": key,
            "tickets": _int(c, "tickets"),
            "answered": _int(c, "answered"),
            "abandoned": _int(c, "abandoned"),
            "unserved": _int(c, "unserved"),
            "sl_share": service_level(c, threshold_s),
            "answer_avg_s": _avg(c, "answer_sum", "answered"),
        }
        for key, c in by_key.items()
    ]
    rows.sort(key=lambda r: (-r["tickets"], r["key"]))
    return [r for r in rows if r["tickets"]]


def agent_rows(agents: Mapping[str, Mapping[str, float]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "agent_id": agent,
            "name": names.get(agent, agent),
            "handled": _int(c, "handled"),
            "avg_handle_s": _avg(c, "handle_sum", "handle_n"),
            "avg_talk_s": _avg(c, "talk_sum", "handle_n"),
            "offers": _int(c, "offers"),
            "missed_offers": _int(c, "declined") + _int(c, "timed_out"),
            "declined": _int(c, "declined"),
            "timed_out": _int(c, "timed_out"),
            "rating_avg": _avg(c, "rating_sum", "rating_n", 2),
            "rating_count": _int(c, "rating_n"),
        }
        for agent, c in agents.items()
    ]
    rows.sort(key=lambda r: (-r["handled"], r["agent_id"]))
    return [r for r in rows if r["handled"] or r["offers"]]
