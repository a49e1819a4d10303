"""`signlink db import-redis`: the records an older signlink kept in Redis land in PostgreSQL once,
with the hand-computed figures; a second run changes nothing."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from signlink.config import Settings
from signlink.db.database import Database
from signlink.db.import_redis import import_redis
from signlink.records.quality import QualitySample, Side, pack
from signlink.records.query import Filters
from signlink.records.reports import Reports
from signlink.records.store import RecordStore
from tests.records.dataset import DAY, H10, tickets


async def old_deployment(redis: Redis, prefix: str) -> None:
    """The keys the Redis-era records used (records/store.py, sessions.py, verdicts.py before 2026-12)."""
    for record in tickets():
        await redis.set(f"{prefix}:rec:t:{record.id}", record.dumps())
    await redis.hset(
        f"{prefix}:session:s-t1-0",
        mapping={
            "session_id": "s-t1-0",
            "ticket_id": "t1",
            "agent_id": "ana",
            "language": "ASL",
            "topic": "phone",
            "started_at": repr(H10 + 68),
            "outcome": "resolved",
            "wrap_notes": "<b>reset</b> & done",
            "wrapped_at": repr(H10 + 428),
            "notes": "1",
            "note:1": "=SUM(A1) asked",
            "note_at:1": repr(H10 + 100),
            "rating": "5",
            "rating_comment": "thanks",
            "rated_at": repr(H10 + 500),
        },
    )
    samples = b"".join(pack(QualitySample(at=H10 + 80 + i, side=Side.CUSTOMER, fps=29.0)) for i in range(3))
    await redis.set(f"{prefix}:rec:q:s-t1-0", samples)
    body = {
        "id": "v-old",
        "check_id": "c-old",
        "created_at": "2027-01-15T10:00:00.000Z",
        "created_epoch": H10,
        "duration_s": 5.0,
        "passed": True,
        "outcome": "passed",
        "criteria": {"light": {"status": "pass", "value": 0.9}},
        "metrics": {"fps": 30.0},
    }
    await redis.hset(f"{prefix}:verdict:v-old", mapping={"record": json.dumps(body), "passed": "1"})
    await redis.hset(f"{prefix}:session:staff-login-abc", mapping={"username": "ana"})  # not a call


async def test_import_copies_records_sessions_samples_and_verdicts_once(
    redis: Redis, settings: Settings, db: Database
) -> None:
    settings = settings.replace(redis_prefix="old", record_retention_days=3650)
    await old_deployment(redis, "old")
    assert await import_redis(settings) == 0
    store = RecordStore(db, 3650)
    reports = Reports(store, languages=("ASL", "BSL", "CSL"), topics=("phone", "pc"), thresholds=(120, 30))
    day = Filters.period(DAY, DAY + 86400)
    first = await reports.summary(day)
    assert (first["tickets"], first["answered"], first["abandoned"], first["unserved"]) == (10, 6, 2, 1)
    assert first["rating"] == {"count": 4, "avg": 3.5}
    page = await reports.session_page("t1")
    assert page["session"]["wrap_notes"] == "<b>reset</b> & done" and page["session"]["comment"] == "thanks"
    assert [n["text"] for n in page["session"]["notes"]] == ["=SUM(A1) asked"]
    assert [s["fps"] for s in page["quality"]["samples"]] == [29.0, 29.0, 29.0]
    assert (await store.verdict("v-old")) is not None
    assert await import_redis(settings) == 0  # again: nothing changes
    assert await reports.summary(day) == first
    assert len((await store.samples(["s-t1-0"]))["s-t1-0"]) == 3
