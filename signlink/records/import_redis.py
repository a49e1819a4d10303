"""`signlink db import-redis`: copy the records an older signlink kept in Redis into PostgreSQL, once.

Reads `{prefix}:rec:t:*` (ticket records), `{prefix}:session:*` (wrap-ups, notes, ratings),
`{prefix}:rec:q:*` (packed call-quality samples) and `{prefix}:verdict:*`, and writes them as the
recorder would (upserts: running it twice changes nothing). Redis is only read; delete the old keys
yourself once the QA pages show the imported figures.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis

from signlink.config import Settings
from signlink.db import partitions
from signlink.db.database import Database
from signlink.queue.call_events import CallEvent, CallEventType
from signlink.records.quality import unpack
from signlink.records.sessions import SessionRecord
from signlink.records.store import Batch, RecordStore
from signlink.records.ticket import TicketRecord
from signlink.records.verdicts import VerdictRecord

log = logging.getLogger(__name__)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _scan(redis: Redis, pattern: str) -> list[str]:
    return [_s(k) async for k in redis.scan_iter(match=pattern, count=1000)]


def _session_events(s: SessionRecord) -> list[CallEvent]:
    base: dict[str, Any] = {
        "session_id": s.session_id,
        "ticket_id": s.ticket_id,
        "agent_id": s.agent_id,
        "started_at": s.started_at,
    }
    out = [
        CallEvent(
            f"import-{s.session_id}-start",
            CallEventType.SESSION_STARTED,
            s.started_at,
            language=s.language,
            topic=s.topic,
            **base,
        )
    ]
    if s.wrapped_at is not None:
        out.append(
            CallEvent(
                f"import-{s.session_id}-wrap",
                CallEventType.WRAPPED_UP,
                s.wrapped_at,
                outcome=s.outcome,
                text=s.wrap_notes,
                **base,
            )
        )
    if s.rated_at is not None:
        out.append(
            CallEvent(
                f"import-{s.session_id}-rate",
                CallEventType.RATED,
                s.rated_at,
                rating=s.rating,
                text=s.rating_comment,
                **base,
            )
        )
    for i, note in enumerate(s.notes, 1):
        out.append(
            CallEvent(
                f"import-{s.session_id}-note-{i}", CallEventType.NOTE, note.at, n=i, text=note.text, **base
            )
        )
    return out


async def import_redis(settings: Settings) -> int:
    redis = Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    db = Database(settings.database_url)
    store = RecordStore(db, settings.record_retention_days)
    p = settings.redis_prefix
    cutoff = partitions.oldest_kept(__import__("time").time(), settings.record_retention_days)
    counts = {"verdicts": 0, "sessions": 0, "samples": 0, "tickets": 0}
    try:
        await store.require_schema()
        calls: list[CallEvent] = []
        for key in await _scan(redis, f"{p}:verdict:*"):
            stored, continued = await redis.hmget(key, ["record", "continued_at"])
            if stored:
                v = VerdictRecord.parse(stored, continued)
                calls.append(
                    CallEvent(
                        f"import-v-{v.id}",
                        CallEventType.VERDICT,
                        v.created_epoch,
                        verdict_id=v.id,
                        body=v.to_dict(),
                    )
                )
                counts["verdicts"] += 1
        for key in await _scan(redis, f"{p}:session:*"):
            if await redis.type(key) not in (b"hash", "hash"):
                continue  # a staff login of that older signlink shares the prefix: not a call
            raw = {_s(k): _s(v) for k, v in (await redis.hgetall(key)).items()}
            if "ticket_id" not in raw:
                continue
            s = SessionRecord.from_fields(raw)
            calls += _session_events(s)
            counts["sessions"] += 1
            packed = await redis.get(f"{p}:rec:q:{s.session_id}")
            for i, sample in enumerate(unpack(packed) if isinstance(packed, bytes) else []):
                values = {
                    n: getattr(sample, n)
                    for n in (
                        "rtt_ms",
                        "packet_loss",
                        "jitter_ms",
                        "jitter_buffer_ms",
                        "fps",
                        "width",
                        "height",
                        "freezes",
                    )
                }
                calls.append(
                    CallEvent(
                        f"import-{s.session_id}-q{i}",
                        CallEventType.QUALITY,
                        sample.at,
                        session_id=s.session_id,
                        side=sample.side.value,
                        sample=values,
                    )
                )
                counts["samples"] += 1
        calls = [c for c in calls if partitions.month_of(c.at) >= cutoff]
        for i in range(0, len(calls), 500):
            await store.write_batch(Batch(calls=calls[i : i + 500]))
        tickets = []
        for key in await _scan(redis, f"{p}:rec:t:*"):
            raw_record = await redis.get(key)
            if raw_record:
                tickets.append(TicketRecord.loads(raw_record))
        await store.write_new(
            [t for t in tickets if t.joined_at and partitions.month_of(t.joined_at) >= cutoff]
        )
        counts["tickets"] = len(tickets)
    finally:
        await redis.aclose()
        await db.close()
    print("imported " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0
