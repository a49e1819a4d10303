"""The QA questions answered from the records: headline, series, agents, the session list and page.

Each figure comes from the buckets when the filters allow (period, language, topic: a few dozen
Redis commands for 30 days), else from one scan of the period's rows through the same
contribution function, so both ways give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from signlink.errors import BackendUnavailable, BadRequest, NotFound
from signlink.records import aggregates, quality
from signlink.records.aggregates import Counters
from signlink.records.query import HOUR, Filters, steps
from signlink.records.row import Row, row_of
from signlink.records.sessions import SessionRecord, SessionRecords
from signlink.records.store import RecordStore

SERIES_NAMES = ("tickets", "answered", "abandoned", "unserved", "max_waiting")
SCAN_BATCH_HOURS = 24
PAGE_CHUNKS = (1, 3, 12, 24)  # hours read per round while filling a page (newest first)


@dataclass
class Scanned:
    totals: Counters = field(default_factory=dict)
    pairs: dict[str, Counters] = field(default_factory=dict)
    series: dict[int, Counters] = field(default_factory=dict)  # by step start hour
    agents: dict[str, Counters] = field(default_factory=dict)


def parse_cursor(cursor: str) -> tuple[float, str]:
    at, sep, ticket_id = cursor.partition(":")
    try:
        value = float(at)
    except ValueError:
        value = float("nan")
    if not sep or not ticket_id or not math.isfinite(value) or len(ticket_id) > 64:
        raise BadRequest("cursor is not one this API gave out", code="bad_field")
    return value, ticket_id


def make_cursor(row: Row) -> str:
    return f"{row.at!r}:{row.id}"


class Reports:
    def __init__(
        self,
        store: RecordStore,
        sessions: SessionRecords,
        *,
        languages: Sequence[str],
        topics: Sequence[str],
        thresholds: Sequence[float],
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.languages = tuple(languages)
        self.topics = tuple(topics)
        self.thresholds = tuple(thresholds)

    # -- figures ---------------------------------------------------------------------------------------

    async def summary(self, f: Filters) -> dict[str, Any]:
        if f.needs_scan:
            counters = (await self._scan(f, 24)).totals
        else:
            counters = await self.store.totals(f.start_hour, f.end_hour, f.pairs(self.languages, self.topics))
        return {"period": period_of(f), **aggregates.summary(counters, self.thresholds)}

    async def timeseries(self, f: Filters, step_hours: int) -> dict[str, Any]:
        pairs = f.pairs(self.languages, self.topics)
        points = steps(f.start_hour, f.end_hour, step_hours)
        if f.needs_scan:
            scanned = await self._scan(f, step_hours)
            series = [(label, scanned.series.get(label, {})) for label, _, _ in points]
            totals, by_pair = scanned.totals, scanned.pairs
        else:
            names = SERIES_NAMES if pairs is None else SERIES_NAMES[:-1]
            series = await self.store.series(points, pairs, names)
            by_pair = await self.store.by_pair(f.start_hour, f.end_hour)
            if pairs is not None:
                by_pair = {p: c for p, c in by_pair.items() if p in pairs}
            totals = aggregates.combine_all(by_pair.values())
        threshold = self.thresholds[0]
        return {
            "period": period_of(f),
            "bucket_s": step_hours * HOUR,
            "buckets": [_point(h, c) for h, c in series],
            "answer_time_histogram": aggregates.histogram(totals),
            "by_language": aggregates.breakdown(_group(by_pair, 0), threshold),
            "by_topic": aggregates.breakdown(_group(by_pair, 1), threshold),
        }

    async def agents(self, f: Filters) -> dict[str, dict[str, float]]:
        """Counters per agent (names are the caller's: records do not know accounts)."""
        if f.needs_scan or f.language is not None or f.topic is not None:
            return (await self._scan(f, 24)).agents
        return await self.store.by_agent(f.start_hour, f.end_hour)

    async def _scan(self, f: Filters, step_hours: int) -> Scanned:
        out = Scanned()
        async for rows in self.store.scan(f.start_hour, f.end_hour, batch=SCAN_BATCH_HOURS, keep=f.may_match):
            for row in rows:
                if not f.matches(row):
                    continue
                part = aggregates.contribution(row)
                aggregates.combine(out.totals, part.fields)
                aggregates.combine(out.pairs.setdefault(f"{row.language}/{row.topic}", {}), part.fields)
                hour = int(row.at // HOUR)
                label = hour // step_hours * step_hours  # as query.steps labels it
                aggregates.combine(out.series.setdefault(label, {}), part.fields)
                for agent, counters in part.agents.items():
                    aggregates.combine(out.agents.setdefault(agent, {}), counters)
        return out

    # -- the session list ----------------------------------------------------------------------------------

    async def page(self, f: Filters, limit: int, cursor: str | None) -> tuple[list[Row], str | None]:
        """Rows matching `f`, newest first, after `cursor`; and the cursor of the next page (or None)."""
        after = parse_cursor(cursor) if cursor else None
        top = f.end_hour
        if after is not None:
            top = min(top, int(after[0] // HOUR) + 1)
        found: list[Row] = []
        chunk_at = 0
        while top > f.start_hour and len(found) <= limit:
            size = PAGE_CHUNKS[min(chunk_at, len(PAGE_CHUNKS) - 1)]
            chunk_at += 1
            hours = list(range(top - 1, max(f.start_hour, top - size) - 1, -1))
            top = hours[-1]
            for rows in await self.store.hour_rows(hours, f.may_match):
                for row in reversed(rows):
                    if after is not None and (row.at, row.id) >= after:
                        continue
                    if f.matches(row):
                        found.append(row)
        more = len(found) > limit
        found = found[:limit]
        return found, make_cursor(found[-1]) if more and found else None

    async def rows(self, f: Filters) -> AsyncIterator[Row]:
        """Every row matching `f`, oldest first (the CSV)."""
        async for rows in self.store.scan(f.start_hour, f.end_hour, batch=SCAN_BATCH_HOURS, keep=f.may_match):
            for row in rows:
                if f.matches(row):
                    yield row

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
            stored = await self._session_record(sid)
            details.append(_session_detail(sid, part, stored))
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

    async def _session_record(self, session_id: str) -> SessionRecord | None:
        try:
            return await self.sessions.get(session_id)
        except NotFound:
            return None
        except BackendUnavailable:
            raise


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


def _point(hour: int, c: Mapping[str, float]) -> dict[str, Any]:
    point: dict[str, Any] = {"t": hour * HOUR}
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
