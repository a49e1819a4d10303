"""The QA figures as SQL (pure): each counter of records/aggregates.py as an aggregate expression over
`tickets` rows, and the filters of records/query.py as a WHERE clause.

The counters have the names and meanings of aggregates.contribution, so aggregates.summary and friends
turn them into the same figures as before; a test compares both ways on the same records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from signlink.records import aggregates
from signlink.records.query import CheckFilter, Filters, OutcomeFilter

# Counters kept per ticket as columns (sums over its offers and sessions).
STORED = (
    "offers_made",
    "offers_accepted",
    "offers_declined",
    "offers_timed_out",
    "offers_cancelled",
    "talk_sum",
    "talk_n",
    "handle_sum",
    "handle_n",
    "wrap_sum",
    "wrap_n",
    "rating_sum",
    "rating_n",
    "q_calls",
    "q_fps_sum",
    "q_fps_n",
    "q_rtt_sum",
    "q_rtt_n",
    "q_loss_sum",
    "q_loss_n",
)
AGENT_STORED = aggregates.AGENT_FIELDS


def _bins(
    column: str, edges: Sequence[int], names: Sequence[str], prefix: str = "t."
) -> list[tuple[str, str]]:
    out = []
    low: int | None = None
    for edge, name in zip(edges, names, strict=False):
        cond = f"{prefix}{column} <= {edge}" + (f" AND {prefix}{column} > {low}" if low is not None else "")
        out.append((name, f"count(*) FILTER (WHERE {cond})"))
        low = edge
    out.append((names[-1], f"count(*) FILTER (WHERE {prefix}{column} > {edges[-1]})"))
    return out


def counter_exprs() -> list[tuple[str, str]]:
    """(counter name, SQL aggregate over `tickets t`) for every counter but the failing criteria."""
    e = [("tickets", "count(*)")]
    e += [
        (o, f"count(*) FILTER (WHERE t.outcome = '{o}')")
        for o in ("answered", "abandoned", "unserved", "waiting")
    ]
    e.append(("transferred", "count(*) FILTER (WHERE t.transfers > 0)"))
    e.append(("answer_sum", "sum(t.answer_s)"))
    e += _bins("answer_s", aggregates.ANSWER_EDGES, aggregates.HIST_FIELDS)
    e.append(("abandon_wait_sum", "sum(t.waited_s) FILTER (WHERE t.outcome = 'abandoned')"))
    e += [(name, f"sum(t.{name})") for name in STORED]
    e.append(("checked", "count(*) FILTER (WHERE t.check_status <> 'none')"))
    e += [
        (f"check_{s}", f"count(*) FILTER (WHERE t.check_status = '{s}')")
        for s in ("passed", "failed", "continued")
    ]
    e.append(("check_dur_sum", "sum(t.check_s)"))
    e += _bins("check_s", aggregates.CHECK_EDGES, aggregates.CHECK_FIELDS)
    e.append(("q_flagged", "count(*) FILTER (WHERE t.flagged)"))
    e.append(("q_low_fps", "count(*) FILTER (WHERE t.flagged AND 'low_fps' = ANY(t.reasons))"))
    e.append(("q_high_delay", "count(*) FILTER (WHERE t.flagged AND 'high_delay' = ANY(t.reasons))"))
    return e


EXPRS = counter_exprs()
SELECT_COUNTERS = ", ".join(f'{sql} AS "{name}"' for name, sql in EXPRS)
SELECT_AGENT = ", ".join(f'sum(a.{name}) AS "{name}"' for name in AGENT_STORED)
FAILING = (
    "SELECT f AS criterion, count(*) AS n FROM tickets t, unnest(t.failing) f "
    "WHERE {where} AND t.check_status NOT IN ('passed', 'none') GROUP BY f"
)


def column(name: str) -> str:
    """A counter's column in the roll-ups (db/migrations/002): "h:5" -> c_h_5."""
    return "c_" + re.sub(r"[^a-z0-9]", "_", name)


# The same counters added up from the hourly roll-ups (`hourly r`), and the agents' (`hourly_agents r`).
SELECT_ROLLUP = ", ".join(f'sum(r.{column(name)}) AS "{name}"' for name, _ in EXPRS)
SELECT_AGENT_ROLLUP = ", ".join(f'sum(r.{column(name)}) AS "{name}"' for name in AGENT_STORED)
ROLLUP_COLUMNS = [column(name) for name, _ in EXPRS]
AGENT_ROLLUP_COLUMNS = [column(name) for name in AGENT_STORED]
NOISE = 1e-9  # a sum taken down to zero by float deltas


def counters_of(record: object) -> dict[str, float]:
    """A result row of SELECT_COUNTERS / SELECT_ROLLUP as counters (zeros and nulls left out)."""
    out: dict[str, float] = {}
    for name, _ in EXPRS:
        value = record[name]  # type: ignore[index]
        if value and abs(value) > NOISE:
            out[name] = float(value)
    return out


def rollup_only(f: Filters) -> bool:
    """Can the hourly roll-ups answer `f`? (They hold period x language x topic only.)"""
    return f.agent is None and f.outcome is None and f.flagged is None and f.check is None


class RollupWhere:
    """The WHERE clause over `hourly r` (or hourly_failing, hourly_agents) for a roll-up filter."""

    def __init__(self, f: Filters, *, pairs: bool = True) -> None:
        self.args: list[object] = [month(f.start).date(), month(f.end - 1).date(), f.start_hour, f.end_hour]
        parts = ["r.part >= $1", "r.part <= $2", "r.hour >= $3", "r.hour < $4"]
        if pairs and f.language is not None:
            self.args.append(f.language)
            parts.append(f"r.language = ${len(self.args)}")
        if pairs and f.topic is not None:
            self.args.append(f.topic)
            parts.append(f"r.topic = ${len(self.args)}")
        self.sql = " AND ".join(parts)


def month(epoch: float) -> datetime:
    moment = datetime.fromtimestamp(epoch, UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


class Where:
    """A WHERE clause over `tickets t` with its numbered arguments."""

    def __init__(self, f: Filters) -> None:
        self.args: list[object] = []
        parts = [
            "t.has_row",
            f"t.part >= {self.arg(month(f.start).date())}",
            f"t.part <= {self.arg(month(f.end - 1).date())}",
            f"t.joined_at >= {self.arg(float(f.start))}",
            f"t.joined_at < {self.arg(float(f.end))}",
        ]
        if f.language is not None:
            parts.append(f"t.language = {self.arg(f.language)}")
        if f.topic is not None:
            parts.append(f"t.topic = {self.arg(f.topic)}")
        if f.agent is not None:
            parts.append(f"t.agents @> ARRAY[{self.arg(f.agent)}::text]")
        if f.outcome is OutcomeFilter.TRANSFERRED:
            parts.append("t.transfers > 0")
        elif f.outcome is not None:
            parts.append(f"t.outcome = {self.arg(f.outcome.value)}")
        if f.flagged is not None:
            parts.append("t.flagged" if f.flagged else "NOT t.flagged")
        if f.check is not None:
            parts.append(f"t.check_status = {self.arg(CheckFilter(f.check).value)}")
        self.sql = " AND ".join(parts)

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"
