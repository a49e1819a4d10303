"""The QA questions answered from PostgreSQL: headline, series, agents, the session list and page, CSV.

Every figure is an aggregate over the `tickets` rows matching the filters (records/sql.py names each
counter as records/aggregates.py defines it), turned into figures by records/aggregates.py as before.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from signlink.errors import BadRequest, NotFound
from signlink.records import aggregates, quality, sql
from signlink.records.aggregates import Counters
from signlink.records.query import HOUR, Filters, steps
from signlink.records.row import row_of
from signlink.records.sessions import SessionRecord
from signlink.records.store import RecordStore

SERIES_NAMES = ("tickets", "answered", "abandoned", "unserved", "max_waiting")
QUARTER_S = 900
LIST_COLUMNS = (
    "id AS ticket_id, session_id, joined_at, language, topic, priority_class, agent AS agent_id, outcome, "
    "transfers > 0 AS transferred, waited_s, handle_s, check_status AS check, flagged, rating"
)


def parse_cursor(cursor: str) -> tuple[float, str]:
    at, sep, ticket_id = cursor.partition(":")
    try:
        value = float(at)
    except ValueError:
        value = float("nan")
    if not sep or not ticket_id or not math.isfinite(value) or len(ticket_id) > 64:
        raise BadRequest("cursor is not one this API gave out", code="bad_field")
    return value, ticket_id


def make_cursor(row: Mapping[str, Any]) -> str:
    return f"{row['joined_at']!r}:{row['ticket_id']}"


class Reports:
    def __init__(
        self,
        store: RecordStore,
        *,
        languages: Sequence[str],
        topics: Sequence[str],
        thresholds: Sequence[float],
    ) -> None:
        self.store = store
        self.db = store.db
        self.languages = tuple(languages)
        self.topics = tuple(topics)
        self.thresholds = tuple(thresholds)

    # -- figures ---------------------------------------------------------------------------------------

    async def counters(self, f: Filters) -> Counters:
        if sql.rollup_only(f):
            return await self._rollup_counters(f)
        return await self.scanned_counters(f)

    async def _rollup_counters(self, f: Filters) -> Counters:
        w = sql.RollupWhere(f)
        async with self.db.connection() as conn:
            row = await conn.fetchrow(f"SELECT {sql.SELECT_ROLLUP} FROM hourly r WHERE {w.sql}", *w.args)
            failing = await conn.fetch(
                f"SELECT criterion, sum(n) AS n FROM hourly_failing r WHERE {w.sql} GROUP BY 1", *w.args
            )
        out = sql.counters_of(row)
        for r in failing:
            if r["n"] > sql.NOISE:
                out[aggregates.FAIL_PREFIX + r["criterion"]] = float(r["n"])
        return out

    async def scanned_counters(self, f: Filters) -> Counters:
        """The counters from the tickets themselves (any filter; the roll-ups must agree)."""
        w = sql.Where(f)
        async with self.db.connection() as conn:
            row = await conn.fetchrow(f"SELECT {sql.SELECT_COUNTERS} FROM tickets t WHERE {w.sql}", *w.args)
            failing = await conn.fetch(sql.FAILING.format(where=w.sql), *w.args)
        out = sql.counters_of(row)
        for r in failing:
            out[aggregates.FAIL_PREFIX + r["criterion"]] = float(r["n"])
        return out

    async def summary(self, f: Filters) -> dict[str, Any]:
        return {"period": period_of(f), **aggregates.summary(await self.counters(f), self.thresholds)}

    async def timeseries(self, f: Filters, step_hours: int, *, step_s: int | None = None) -> dict[str, Any]:
        """Points every `step_hours` (or every `step_s` seconds, e.g. 900), whole steps of UTC time."""
        step = step_s or step_hours * HOUR
        async with self.db.connection() as conn:
            if sql.rollup_only(f) and step % HOUR == 0:
                rw = sql.RollupWhere(f)
                label = f"(r.hour / {step // HOUR})::bigint * {step}"
                rows = await conn.fetch(
                    f"SELECT {label} AS label, {sql.SELECT_ROLLUP} FROM hourly r WHERE {rw.sql} GROUP BY 1",
                    *rw.args,
                )
                pairs = await conn.fetch(
                    f"SELECT r.language, r.topic, {sql.SELECT_ROLLUP} FROM hourly r "
                    f"WHERE {rw.sql} GROUP BY 1, 2",
                    *rw.args,
                )
            else:
                w = sql.Where(f)
                label = f"floor(t.joined_at / {step})::bigint * {step}"
                rows = await conn.fetch(
                    f"SELECT {label} AS label, {sql.SELECT_COUNTERS} FROM tickets t WHERE {w.sql} GROUP BY 1",
                    *w.args,
                )
                pairs = await conn.fetch(
                    f"SELECT t.language, t.topic, {sql.SELECT_COUNTERS} FROM tickets t "
                    f"WHERE {w.sql} GROUP BY 1, 2",
                    *w.args,
                )
            gauge: dict[int, float] = {}
            if f == Filters(start=f.start, end=f.end):  # the gauge is of the whole queue
                for r in await conn.fetch(
                    f"SELECT floor(at / {step})::bigint * {step} AS label, max(waiting) AS m "
                    "FROM waiting_samples "
                    "WHERE part >= $1 AND part <= $2 AND at >= $3 AND at < $4 GROUP BY 1",
                    sql.month(f.start).date(),
                    sql.month(f.end - 1).date(),
                    float(f.start),
                    float(f.end),
                ):
                    gauge[int(r["label"])] = float(r["m"])
        by_label = {int(r["label"]): sql.counters_of(r) for r in rows}
        for t, value in gauge.items():
            by_label.setdefault(t, {})["max_waiting"] = value
        by_pair = {f"{r['language']}/{r['topic']}": sql.counters_of(r) for r in pairs}
        totals = aggregates.combine_all(by_pair.values())
        if step_s:
            labels = [t for t in range(int(f.start) // step * step, int(f.end), step)]
        else:
            labels = [h * HOUR for h, _, _ in steps(f.start_hour, f.end_hour, step_hours)]
        threshold = self.thresholds[0]
        return {
            "period": period_of(f),
            "bucket_s": step,
            "buckets": [_point(t, by_label.get(t, {})) for t in labels],
            "answer_time_histogram": aggregates.histogram(totals),
            "by_language": aggregates.breakdown(_group(by_pair, 0), threshold),
            "by_topic": aggregates.breakdown(_group(by_pair, 1), threshold),
        }

    async def agents(self, f: Filters) -> dict[str, dict[str, float]]:
        """Counters per agent (names are the caller's: records do not know accounts)."""
        if sql.rollup_only(f) and f.language is None and f.topic is None:
            rw = sql.RollupWhere(f, pairs=False)
            found = await self.db.fetch(
                f"SELECT r.agent, {sql.SELECT_AGENT_ROLLUP} FROM hourly_agents r WHERE {rw.sql} GROUP BY 1",
                *rw.args,
            )
            rolled: dict[str, dict[str, float]] = {}
            for r in found:
                mine = {n: float(r[n]) for n in sql.AGENT_STORED if r[n] and abs(r[n]) > sql.NOISE}
                if mine:
                    rolled[r["agent"]] = mine
            return rolled
        w = sql.Where(f)
        rows = await self.db.fetch(
            f"SELECT a.agent, {sql.SELECT_AGENT} FROM ticket_agents a JOIN tickets t "
            f"ON t.part = a.part AND t.id = a.ticket_id WHERE {w.sql} GROUP BY a.agent",
            *w.args,
        )
        out: dict[str, dict[str, float]] = {}
        for r in rows:
            out[r["agent"]] = {n: float(r[n]) for n in sql.AGENT_STORED if r[n]}
        return out

    # -- the session list ----------------------------------------------------------------------------------

    async def page(
        self, f: Filters, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Rows matching `f`, newest first, after `cursor`; and the cursor of the next page (or None)."""
        w = sql.Where(f)
        where = w.sql
        if cursor:
            at, tid = parse_cursor(cursor)
            where += f" AND (t.joined_at, t.id) < ({w.arg(at)}::float8, {w.arg(tid)}::text)"
        rows = await self.db.fetch(
            f"SELECT {LIST_COLUMNS} FROM tickets t WHERE {where} "
            f"ORDER BY t.joined_at DESC, t.id DESC LIMIT {int(limit) + 1}",
            *w.args,
        )
        found = [dict(r) for r in rows]
        more = len(found) > limit
        found = found[:limit]
        return found, make_cursor(found[-1]) if more and found else None

    async def rows(self, f: Filters) -> AsyncIterator[dict[str, Any]]:
        """Every row matching `f`, oldest first (a server-side cursor: memory stays flat)."""
        w = sql.Where(f)
        async with self.db.transaction() as conn:
            query = f"SELECT {LIST_COLUMNS} FROM tickets t WHERE {w.sql} ORDER BY t.joined_at, t.id"
            async for r in conn.cursor(query, *w.args, prefetch=2000):
                yield dict(r)

    async def copy_csv(
        self, f: Filters, columns: str, write: Callable[[bytes], Coroutine[Any, Any, None]]
    ) -> None:
        """Stream the CSV of `f` (oldest first) straight from PostgreSQL with COPY; `columns` is the
        SELECT list (web/qa_api.py formats the cells)."""
        w = sql.Where(f)
        query = f"SELECT {columns} FROM tickets t WHERE {w.sql} ORDER BY t.joined_at, t.id"
        async with self.db.connection() as conn:
            await conn.copy_from_query(query, *w.args, output=write, format="csv")

    # -- one ticket ---------------------------------------------------------------------------------

    async def session_page(self, ticket_id: str) -> dict[str, Any]:
        record = await self.store.get(ticket_id)
        if record is None:
            raise NotFound(f"no record of ticket {ticket_id!r} (unknown, or older than the retention)")
        row = row_of(record)
        ordered = record.ordered_sessions()
        session_ids = [sid for sid, _ in ordered]
        samples = await self.store.samples(session_ids)
        details = []
        for sid, part in ordered:
            details.append(_session_detail(sid, part, await self.store.session(sid)))
        found = []
        sample_rows = []
        for sid in session_ids:
            mine = samples.get(sid, [])
            found += [{"session_id": sid, **x.to_dict()} for x in quality.findings(mine)]
            sample_rows += [{"session_id": sid, **s.to_dict()} for s in sorted(mine, key=lambda s: s.at)]
        ticket: dict[str, Any] = row.to_api() if row else {"ticket_id": record.id}
        ticket.update(
            {
                "current_language": record.current_language,
                "current_topic": record.current_topic,
                "device_model": record.device_model,
                "answer_s": row.answer_s if row else None,
                "talk_s": row.talk_s if row else None,
                "wrap_s": row.wrap_s if row else None,
                "transfers": len(record.transfers),
                "abandon_reason": record.abandon_reason,
            }
        )
        check = None
        if record.check is not None:
            check = {
                **record.check.to_dict(),
                "status": record.check.status.value,
                "failing": record.check.failing,
            }
        offers = sorted(
            record.offers.items(), key=lambda kv: (kv[1].created_at or kv[1].closed_at or 0, kv[0])
        )
        return {
            "ticket": ticket,
            "timeline": record.timeline(),
            "check": check,
            "offers": [
                {
                    "offer_id": offer_id,
                    "agent_id": o.agent,
                    "outcome": o.outcome.value,
                    "at": o.created_at,
                    "closed_at": o.closed_at,
                    "reason": o.reason,
                }
                for offer_id, o in offers
            ],
            "session": details[-1] if details else None,
            "sessions": details,
            "quality": {
                "samples": sample_rows,
                "flagged": bool(found),
                "reasons": sorted({str(x["reason"]) for x in found}),
                "findings": found,
            },
        }


def _session_detail(session_id: str, part: Any, stored: SessionRecord | None) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "agent_id": part.agent,
        "connected_at": part.accepted_at,
        "waited_s": part.waited_s,
        "ended_at": part.ended_at,
        "ended_by": part.ended_by,
        "talk_s": None if part.talk_s is None else round(part.talk_s, 1),
        "wrap_s": None if part.wrap_s is None else round(part.wrap_s, 1),
        "outcome": stored.outcome if stored else part.wrap_outcome,
        "wrapped_at": stored.wrapped_at if stored else part.wrapped_at,
        "wrap_notes": stored.wrap_notes if stored else None,
        "notes": [{"text": n.text, "at": n.at} for n in stored.notes] if stored else [],
        "rating": stored.rating if stored else part.rating,
        "comment": stored.rating_comment if stored else None,
        "rated_at": stored.rated_at if stored else part.rated_at,
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def period_of(f: Filters) -> dict[str, Any]:
    """The period as asked, rounded out to whole hours: ISO 8601 UTC, and epoch seconds."""
    return {"from": _iso(f.start), "to": _iso(f.end), "from_s": f.start, "to_s": f.end}


def _point(t: int, c: Mapping[str, float]) -> dict[str, Any]:
    point: dict[str, Any] = {"t": t}
    for name in SERIES_NAMES:
        if name in aggregates.MAX_FIELDS:
            point[name] = round(c[name]) if name in c else None
        else:
            point[name] = round(c.get(name, 0))
    return point


def _group(by_pair: Mapping[str, Counters], index: int) -> dict[str, Counters]:
    out: dict[str, Counters] = {}
    for pair, counters in by_pair.items():
        key = pair.split("/", 1)[index] if "/" in pair else pair
        aggregates.combine(out.setdefault(key, {}), counters)
    return out
