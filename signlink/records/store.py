"""RecordStore: the records in PostgreSQL (db/migrations/001_records.sql); the recorder's one write path.

`write_batch` applies a batch of queue and call events in one transaction: raw facts first (verdicts,
sessions, notes, samples, the ticket timeline, each keyed by its event id so a replay adds nothing),
then every ticket they touch is read under an advisory lock, its facts merged (records/ticket.py:
idempotent, order-free), and its row, counters and per-agent shares written again. So replays and
reordering change nothing, across any number of recorders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from signlink.check.outcome import Outcome
from signlink.db import partitions, schema
from signlink.db.database import Database
from signlink.queue.call_events import CallEvent, CallEventType
from signlink.queue.events import EventType, QueueEvent
from signlink.records import aggregates, sql
from signlink.records.quality import QualitySample, Side, summarise
from signlink.records.rollup import Rollup
from signlink.records.row import row_of
from signlink.records.sessions import NoteRecord, SessionRecord
from signlink.records.ticket import CheckCopy, SessionFacts, TicketRecord
from signlink.records.verdicts import CriterionRecord, VerdictRecord

log = logging.getLogger(__name__)

TICKET_EVENTS = frozenset(
    {
        EventType.TICKET_JOINED,
        EventType.TICKET_UNSERVED,
        EventType.TICKET_ABANDONED,
        EventType.TICKET_TRANSFERRED,
        EventType.OFFER_CREATED,
        EventType.OFFER_ACCEPTED,
        EventType.OFFER_DECLINED,
        EventType.OFFER_EXPIRED,
        EventType.OFFER_CANCELLED,
        EventType.SESSION_ENDED,
    }
)
DEAD_KEEP = 1000
VerdictLookup = Callable[[str], Awaitable[VerdictRecord | None]]

TICKET_COLUMNS = (
    "part, id, joined_at, has_row, language, topic, priority_class, outcome, session_id, agent, agents, "
    "waited_s, answer_s, handle_s, talk_s, wrap_s, check_status, failing, check_s, flagged, reasons, "
    "rating, transfers, abandon_reason, verdict_id, device_model, " + ", ".join(sql.STORED) + ", record"
)
_N_TICKET = TICKET_COLUMNS.count(",") + 1
UPSERT_TICKET = (
    f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, _N_TICKET + 1))}) "
    "ON CONFLICT (part, id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in TICKET_COLUMNS.split(",")[2:])
    + ", updated_at = now()"
)
AGENT_COLUMNS = "part, ticket_id, agent, joined_at, " + ", ".join(sql.AGENT_STORED)
_N_AGENT = AGENT_COLUMNS.count(",") + 1
_AGENT_ARGS = ", ".join(f"${i}" for i in range(1, _N_AGENT + 1))
INSERT_AGENT = f"INSERT INTO ticket_agents ({AGENT_COLUMNS}) VALUES ({_AGENT_ARGS})"


def record_id_of(event: QueueEvent) -> str | None:
    if event.type is EventType.TICKET_UNSERVED:
        return f"u{event.id}"
    if event.type in TICKET_EVENTS and event.ticket_id:
        return event.ticket_id
    return None


def check_copy(verdict_id: str, v: VerdictRecord | None) -> CheckCopy:
    """What QA keeps of a verdict, or a 'not found' marker."""
    if v is None:
        return CheckCopy(verdict_id=verdict_id, found=False)
    return CheckCopy(
        verdict_id=verdict_id,
        passed=v.passed,
        outcome=v.outcome.value,
        created_at=v.created_epoch,
        duration_s=v.duration_s,
        continued_at=v.continued_at,
        criteria={name: c.to_dict() for name, c in v.criteria.items()},
        metrics=dict(v.metrics),
    )


def verdict_of(row: Any) -> VerdictRecord:
    return VerdictRecord(
        id=row["id"],
        check_id=row["check_id"],
        created_at=_iso(row["created_at"]),
        created_epoch=row["created_at"],
        duration_s=row["duration_s"],
        passed=row["passed"],
        outcome=Outcome(row["outcome"]),
        criteria={k: CriterionRecord(str(c["status"]), c.get("value")) for k, c in row["criteria"].items()},
        metrics=dict(row["metrics"]),
        continued_at=row["continued_at"],
    )


def _iso(epoch: float) -> str:
    from signlink.records.verdicts import _iso as iso

    return iso(epoch)


def sample_of(row: Any) -> QualitySample:
    return QualitySample(
        at=row["at"],
        side=Side(row["side"]),
        rtt_ms=row["rtt_ms"],
        packet_loss=row["packet_loss"],
        jitter_ms=row["jitter_ms"],
        fps=row["fps"],
        width=row["width"],
        height=row["height"],
        freezes=row["freezes"],
        jitter_buffer_ms=row["jitter_buffer_ms"],
    )


def session_of(row: Any, notes: Sequence[Any]) -> SessionRecord:
    return SessionRecord(
        session_id=row["session_id"],
        ticket_id=row["ticket_id"],
        agent_id=row["agent_id"],
        language=row["language"],
        topic=row["topic"],
        started_at=row["started_at"],
        outcome=row["outcome"],
        wrap_notes=row["wrap_notes"],
        wrapped_at=row["wrapped_at"],
        notes=tuple(NoteRecord(n["text"], n["at"]) for n in notes),
        rating=row["rating"],
        rating_comment=row["rating_comment"],
        rated_at=row["rated_at"],
    )


@dataclass
class Batch:
    queue: list[QueueEvent] = field(default_factory=list)
    calls: list[CallEvent] = field(default_factory=list)


class RecordStore:
    def __init__(self, db: Database, retention_days: int) -> None:
        self.db = db
        self.retention_days = retention_days
        self._months: set[date] = set()
        self._schema_ok = False

    async def require_schema(self) -> None:
        """ConfigError unless the database has this code's schema; BackendUnavailable if away."""
        if self._schema_ok:
            return
        async with self.db.connection() as conn:
            await schema.require_current(conn)
        self._schema_ok = True

    # -- partitions --------------------------------------------------------------------------------------

    async def ensure_months(self, epochs: Iterable[float]) -> None:
        wanted = {partitions.month_of(t) for t in epochs} - self._months
        if not wanted:
            return
        async with self.db.connection() as conn:
            await partitions.ensure(conn, wanted)
        self._months |= wanted

    async def drop_expired(self, now: float) -> list[str]:
        async with self.db.connection() as conn:
            dropped = await partitions.drop_expired(conn, now, self.retention_days)
        self._months = {m for m in self._months if m >= partitions.oldest_kept(now, self.retention_days)}
        return dropped

    # -- the write path ------------------------------------------------------------------------------------

    async def write_batch(self, batch: Batch, live_verdict: VerdictLookup | None = None) -> None:
        """Record `batch` in one transaction (BackendUnavailable if PostgreSQL is away: nothing kept)."""
        times = [e.at for e in batch.queue] + [e.at for e in batch.calls]
        times += [e.started_at for e in batch.calls if e.started_at is not None]
        await self.require_schema()
        await self.ensure_months(times)
        async with self.db.transaction() as conn:
            tickets = await self._write_calls(conn, batch.calls)
            new_verdicts = [e.verdict_id for e in batch.calls if e.verdict_id]
            if new_verdicts:
                rows = await conn.fetch(
                    "SELECT id FROM tickets WHERE verdict_id = ANY($1::text[])", new_verdicts
                )
                tickets |= {r["id"] for r in rows}
            by_ticket: dict[str, list[QueueEvent]] = {}
            fresh = await self._timeline(conn, batch.queue)
            for event in batch.queue:
                rid = record_id_of(event)
                if rid is not None:
                    tickets.add(rid)
                    if event.id in fresh:
                        by_ticket.setdefault(rid, []).append(event)
            if tickets:
                rollup = Rollup()
                await self._tickets(conn, sorted(tickets), by_ticket, live_verdict, rollup)
                await rollup.flush(conn)

    async def _timeline(self, conn: asyncpg.Connection, events: Sequence[QueueEvent]) -> set[str]:
        """Insert the ticket events; the ids that were new (replays are skipped)."""
        rows = [
            (partitions.month_of(e.at), e.id, rid, e.type.value, e.at)
            for e in events
            if (rid := record_id_of(e)) is not None
        ]
        if not rows:
            return set()
        found = await conn.fetch(
            "INSERT INTO ticket_events (part, event_id, ticket_id, type, at) "
            "SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::float8[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            *[list(col) for col in zip(*rows, strict=True)],
        )
        return {r["event_id"] for r in found}

    async def _write_calls(self, conn: asyncpg.Connection, events: Sequence[CallEvent]) -> set[str]:
        """Record the call events; the ticket ids whose records they change."""
        tickets: set[str] = set()
        sessions: set[str] = set()
        for e in events:
            if e.type is CallEventType.VERDICT and e.body is not None:
                await self._verdict(conn, e)
            elif e.type is CallEventType.CONTINUED and e.verdict_id:
                await conn.execute(
                    "UPDATE verdicts SET continued_at = coalesce(continued_at, $2) WHERE id = $1",
                    e.verdict_id,
                    e.text,
                )
            elif e.session_id and e.type is CallEventType.QUALITY:
                sample = e.sample or {}
                await conn.execute(
                    "INSERT INTO quality_samples (part, event_id, session_id, at, side, rtt_ms, packet_loss, "
                    "jitter_ms, jitter_buffer_ms, fps, width, height, freezes) "
                    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING",
                    partitions.month_of(e.at),
                    e.id,
                    e.session_id,
                    e.at,
                    e.side or "customer",
                    *(
                        sample.get(n)
                        for n in ("rtt_ms", "packet_loss", "jitter_ms", "jitter_buffer_ms", "fps")
                    ),
                    *(
                        None if sample.get(n) is None else int(sample[n] or 0)
                        for n in ("width", "height", "freezes")
                    ),
                )
                sessions.add(e.session_id)
            elif e.session_id and e.ticket_id and e.started_at is not None:
                await self._session(conn, e)
                tickets.add(e.ticket_id)
        if sessions:
            rows = await conn.fetch(
                "SELECT DISTINCT ticket_id FROM call_sessions WHERE session_id = ANY($1::text[])",
                list(sessions),
            )
            tickets |= {r["ticket_id"] for r in rows}
        return tickets

    async def _verdict(self, conn: asyncpg.Connection, e: CallEvent) -> None:
        b = e.body or {}
        await conn.execute(
            "INSERT INTO verdicts (part, id, check_id, created_at, duration_s, passed, outcome, "
            "continued_at, criteria, metrics) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
            "ON CONFLICT (part, id) DO NOTHING",
            partitions.month_of(float(b["created_epoch"])),
            str(b["id"]),
            str(b["check_id"]),
            float(b["created_epoch"]),
            float(b["duration_s"]),
            bool(b["passed"]),
            str(b["outcome"]),
            b.get("continued_at"),
            b.get("criteria", {}),
            b.get("metrics", {}),
        )

    async def _session(self, conn: asyncpg.Connection, e: CallEvent) -> None:
        assert e.started_at is not None
        part = partitions.month_of(e.started_at)
        await conn.execute(
            "INSERT INTO call_sessions (part, session_id, ticket_id, agent_id, language, topic, started_at) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (part, session_id) DO UPDATE SET "
            "language = coalesce(nullif(excluded.language, ''), call_sessions.language), "
            "topic = coalesce(nullif(excluded.topic, ''), call_sessions.topic)",
            part,
            e.session_id,
            e.ticket_id,
            e.agent_id or "",
            e.language or "",
            e.topic or "",
            e.started_at,
        )
        if e.type is CallEventType.WRAPPED_UP:
            await conn.execute(
                "UPDATE call_sessions SET outcome = $3, wrap_notes = $4, wrapped_at = $5 "
                "WHERE part = $1 AND session_id = $2 AND wrapped_at IS NULL",
                part,
                e.session_id,
                _text(e.outcome),
                _text(e.text),
                e.at,
            )
        elif e.type is CallEventType.RATED:
            await conn.execute(
                "UPDATE call_sessions SET rating = $3, rating_comment = $4, rated_at = $5 "
                "WHERE part = $1 AND session_id = $2 AND rated_at IS NULL",
                part,
                e.session_id,
                e.rating,
                _text(e.text),
                e.at,
            )
        elif e.type is CallEventType.NOTE:
            await conn.execute(
                "INSERT INTO session_notes (part, event_id, session_id, n, text, at) "
                "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                part,
                e.id,
                e.session_id,
                e.n or 0,
                _text(e.text),
                e.at,
            )

    async def _tickets(
        self,
        conn: asyncpg.Connection,
        ids: Sequence[str],
        events: dict[str, list[QueueEvent]],
        live_verdict: VerdictLookup | None,
        rollup: Rollup,
    ) -> None:
        # One recorder at a time per ticket (ids sorted: no deadlock between two batches).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(x)) FROM unnest($1::text[]) x", list(ids))
        old = {
            r["id"]: r
            for r in await conn.fetch(
                "SELECT part, id, record FROM tickets WHERE id = ANY($1::text[])", list(ids)
            )
        }
        facts = await self._session_facts(conn, ids)
        verdict_ids = {
            e.verdict_id for evs in events.values() for e in evs if e.verdict_id and e.verdict_id != "none"
        }
        verdict_ids |= {
            r["record"].get("check", {}).get("verdict_id") for r in old.values() if r["record"].get("check")
        }
        verdict_ids.discard(None)
        verdicts = {
            r["id"]: verdict_of(r)
            for r in await conn.fetch("SELECT * FROM verdicts WHERE id = ANY($1::text[])", list(verdict_ids))
        }
        for tid in ids:
            prev = old.get(tid)
            record = TicketRecord.loads_dict(prev["record"]) if prev else TicketRecord(tid)
            mine = events.get(tid, [])
            for event in mine:
                record.apply(event)
                if event.type is EventType.TICKET_JOINED and event.verdict_id and event.verdict_id != "none":
                    found = verdicts.get(event.verdict_id)
                    if found is None and live_verdict is not None:
                        found = await live_verdict(event.verdict_id)
                    copy = check_copy(event.verdict_id, found)
                    if copy.found or record.check is None:
                        record.check = copy
            if record.check is not None and record.check.verdict_id in verdicts:
                record.check = check_copy(record.check.verdict_id, verdicts[record.check.verdict_id])
            for f in facts.get(tid, []):
                record.apply_session_facts(f)
            first = min((e.at for e in mine), default=None)
            await self._put(conn, record, prev, first, rollup)

    async def _session_facts(
        self, conn: asyncpg.Connection, ids: Sequence[str]
    ) -> dict[str, list[SessionFacts]]:
        sessions = await conn.fetch(
            "SELECT session_id, ticket_id, outcome, wrapped_at, rating, rated_at FROM call_sessions "
            "WHERE ticket_id = ANY($1::text[])",
            list(ids),
        )
        if not sessions:
            return {}
        samples: dict[str, list[QualitySample]] = {}
        for r in await conn.fetch(
            "SELECT * FROM quality_samples WHERE session_id = ANY($1::text[]) ORDER BY at",
            [s["session_id"] for s in sessions],
        ):
            samples.setdefault(r["session_id"], []).append(sample_of(r))
        out: dict[str, list[SessionFacts]] = {}
        for s in sessions:
            mine = samples.get(s["session_id"])
            out.setdefault(s["ticket_id"], []).append(
                SessionFacts(
                    session_id=s["session_id"],
                    wrap_outcome=s["outcome"],
                    wrapped_at=s["wrapped_at"],
                    rating=s["rating"],
                    rated_at=s["rated_at"],
                    quality=summarise(mine) if mine else None,
                )
            )
        return out

    async def _put(
        self, conn: asyncpg.Connection, record: TicketRecord, prev: Any, first: float | None, rollup: Rollup
    ) -> None:
        row = row_of(record)
        at = (
            row.at if row else (record.joined_at or first or (prev["record"].get("_first") if prev else None))
        )
        if at is None:
            return  # only call facts, no queue event yet: the ticket is written when one comes
        part = partitions.month_of(at)  # made before the transaction (write_batch)
        if prev is not None and prev["part"] != part:
            await conn.execute("DELETE FROM tickets WHERE part = $1 AND id = $2", prev["part"], record.id)
        if prev is not None:
            await conn.execute(
                "DELETE FROM ticket_agents WHERE part = $1 AND ticket_id = $2", prev["part"], record.id
            )
        rollup.add(row_of(TicketRecord.loads_dict(prev["record"])) if prev is not None else None, -1)
        rollup.add(row, +1)
        stored = record.to_dict()
        if row is None:
            stored["_first"] = at
        part_c = aggregates.contribution(row)
        c = part_c.fields
        values: list[object] = [
            part,
            record.id,
            at,
            row is not None,
            row.language if row else "",
            row.topic if row else "",
            row.priority_class if row else "",
            row.outcome.value if row else "waiting",
            row.session_id if row else None,
            row.agent if row else None,
            row.agents if row else [],
            row.waited_s if row else None,
            row.answer_s if row else None,
            row.handle_s if row else None,
            row.talk_s if row else None,
            row.wrap_s if row else None,
            row.check if row else "none",
            list(row.failing) if row else [],
            row.check_s if row else None,
            row.flagged if row else False,
            list(row.reasons) if row else [],
            row.rating if row else None,
            row.transfers if row else 0,
            row.abandon_reason if row else None,
            record.check.verdict_id if record.check else None,
            record.device_model,
        ]
        values += [_num(name, c.get(name)) for name in sql.STORED]
        values.append(stored)
        await conn.execute(UPSERT_TICKET, *values)
        if row is not None and part_c.agents:
            await conn.executemany(
                INSERT_AGENT,
                [
                    (part, record.id, agent, at, *(_num(n, counters.get(n)) for n in sql.AGENT_STORED))
                    for agent, counters in part_c.agents.items()
                ],
            )

    async def write_new(self, records: Sequence[TicketRecord]) -> None:
        """Write whole records as they are (signlink db import-redis, tests, the benchmark's bulk load),
        500 to a transaction, replacing what is stored under their ids."""
        await self.require_schema()
        await self.ensure_months([r.joined_at for r in records if r.joined_at is not None])
        for i in range(0, len(records), 500):
            chunk = {r.id: r for r in records[i : i + 500]}
            ids = sorted(chunk)
            async with self.db.transaction() as conn:
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext(x)) FROM unnest($1::text[]) x", ids)
                old = {
                    r["id"]: r
                    for r in await conn.fetch(
                        "SELECT part, id, record FROM tickets WHERE id = ANY($1::text[])", ids
                    )
                }
                rollup = Rollup()
                for tid in ids:
                    await self._put(conn, chunk[tid], old.get(tid), None, rollup)
                await rollup.flush(conn)

    async def dead_letter(self, stream: str, event_id: str, fields: dict[str, str], error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO dead_events (stream, event_id, fields, error) VALUES ($1, $2, $3, $4)",
                stream,
                event_id,
                fields,
                error,
            )
            await conn.execute(
                "DELETE FROM dead_events WHERE id <= (SELECT max(id) - $1 FROM dead_events)", DEAD_KEEP
            )

    async def note_waiting(self, at: float, waiting: int) -> None:
        await self.ensure_months([at])
        async with self.db.connection() as conn:
            await conn.execute(
                "INSERT INTO waiting_samples (part, at, waiting) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                partitions.month_of(at),
                at,
                waiting,
            )

    # -- reads ---------------------------------------------------------------------------------------

    async def get(self, record_id: str) -> TicketRecord | None:
        row = await self.db.fetchrow("SELECT record FROM tickets WHERE id = $1", record_id)
        return TicketRecord.loads_dict(row["record"]) if row else None

    async def all_time(self) -> dict[str, float]:
        """Every counter over every record kept (for /metrics)."""
        row = await self.db.fetchrow(f"SELECT {sql.SELECT_COUNTERS} FROM tickets t WHERE t.has_row")
        return sql.counters_of(row) if row else {}

    async def samples(self, session_ids: Sequence[str]) -> dict[str, list[QualitySample]]:
        out: dict[str, list[QualitySample]] = {s: [] for s in session_ids}
        if session_ids:
            rows = await self.db.fetch(
                "SELECT * FROM quality_samples WHERE session_id = ANY($1::text[]) ORDER BY at, event_id",
                list(session_ids),
            )
            for r in rows:
                out[r["session_id"]].append(sample_of(r))
        return out

    async def session(self, session_id: str) -> SessionRecord | None:
        row = await self.db.fetchrow("SELECT * FROM call_sessions WHERE session_id = $1", session_id)
        if row is None:
            return None
        notes = await self.db.fetch(
            "SELECT text, at FROM session_notes WHERE session_id = $1 ORDER BY n, at", session_id
        )
        return session_of(row, notes)

    async def verdict(self, verdict_id: str) -> VerdictRecord | None:
        row = await self.db.fetchrow("SELECT * FROM verdicts WHERE id = $1", verdict_id)
        return verdict_of(row) if row else None


def _text(value: str | None) -> str:
    """PostgreSQL text cannot hold NUL: it becomes U+FFFD (every other character is kept as it is)."""
    return (value or "").replace("\x00", "\ufffd")


def _num(name: str, value: float | None) -> float | int | None:
    if not value:
        return None
    return (
        float(value)
        if aggregates.is_float_field(name) or (name.startswith("q_") and name != "q_calls")
        else int(value)
    )
