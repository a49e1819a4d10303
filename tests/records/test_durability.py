"""The one writer under faults: a recorder killed -9 mid-batch, PostgreSQL killed -9 or away under load.
Afterwards every record is complete and nothing is counted twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from signlink.db.database import Database
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.queue.call_events import CallEventLog
from signlink.queue.models import EndedBy, JoinRequest
from signlink.queue.store import QueueStore
from signlink.records.query import Filters
from signlink.records.recorder import Recorder
from signlink.records.reports import Reports
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
from signlink.records.verdicts import VerdictStore
from tests.support.e2e import settings_env
from tests.support.pg_proc import PostgresProcess

LANGS, TOPICS = ("ASL",), ("phone",)
PASSING = Verdict(
    passed=True,
    complete=True,
    criteria=tuple(CriterionResult(c, Status.PASS, 1.0, 0.5, {"en": "", "zh-CN": ""}) for c in Criterion),
    metrics={"fps": 25.0},
)


def world_settings(redis_url: str, database_url: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        database_url=database_url,
        sign_languages=LANGS,
        topics=TOPICS,
        redis_prefix="dur",
        recorder_batch=40,
    )


async def calls(settings: Settings, redis: Redis, n: int, start: int = 0) -> list[str]:
    """n answered calls with a wrap-up, a rating and two quality samples each; their ticket ids."""
    queue = QueueStore(redis, settings)
    sessions = SessionRecords(redis, settings.redis_prefix, 86400)
    await queue.agent_login("ana", list(LANGS), list(TOPICS), ready=True)
    ids = []
    for i in range(start, start + n):
        placed = await queue.join(JoinRequest(f"customer-token-durable-{i:06d}", "ASL", "phone", "normal"))
        assert placed.offer
        session = await queue.accept("ana", placed.offer.id)
        await sessions.start(
            session_id=session.id, ticket_id=placed.ticket.id, agent_id="ana", language="ASL", topic="phone"
        )
        for side in ("agent", "customer"):
            await sessions.events.quality_sample(session.id, session.started_at + 10, side, {"fps": 25.0})
        await queue.end_session(session.id, by=EndedBy.CUSTOMER)
        await sessions.wrap_up(session.id, agent_id="ana", outcome="resolved", notes=f"note {i}")
        await sessions.rate(session.id, score=4, comment="")
        await queue.agent_ready("ana")
        ids.append(placed.ticket.id)
    return ids


def recorder_of(settings: Settings, redis: Redis, db: Database, name: str) -> Recorder:
    calls_log = CallEventLog(redis, settings.redis_prefix, maxlen=settings.queue_events_maxlen)
    return Recorder(
        RecordStore(db, 90), QueueStore(redis, settings), calls_log, consumer=name, claim_idle_ms=0, batch=40
    )


async def drain(recorder: Recorder) -> None:
    await recorder.ensure_group()
    while await recorder.step():
        pass


async def assert_complete(db: Database, n: int, waiting: int = 0) -> None:
    """n tickets answered once, wrapped up, rated 4 and with two samples each (and `waiting` more
    still waiting): no more, no less."""
    reports = Reports(RecordStore(db, 90), languages=LANGS, topics=TOPICS, thresholds=(120, 30))
    s = await reports.summary(Filters.period(0, 4_000_000_000))
    assert (s["tickets"], s["answered"], s["offers"]["accepted"]) == (n + waiting, n, n)
    assert s["offers"]["made"] == n
    assert s["rating"] == {"count": n, "avg": 4.0}
    assert s["quality"]["calls_with_samples"] == n and s["quality"]["avg_fps"] == 25.0
    counts = await db.fetchrow(
        "SELECT (SELECT count(*) FROM quality_samples) AS samples, "
        "(SELECT count(*) FROM call_sessions WHERE wrapped_at IS NOT NULL AND rated_at IS NOT NULL) AS done, "
        "(SELECT count(*) FROM ticket_events) AS events, "
        "(SELECT count(DISTINCT event_id) FROM ticket_events) AS d"
    )
    assert counts is not None
    assert (counts["samples"], counts["done"]) == (2 * n, n)
    assert counts["events"] == counts["d"] == 4 * n + waiting  # joined, offered, accepted, ended: once


async def test_a_recorder_killed_mid_batch_loses_and_doubles_nothing(
    redis: Redis, redis_server: object, database_url: str
) -> None:
    settings = world_settings(redis_server.url, database_url)  # type: ignore[attr-defined]
    n = 120
    await calls(settings, redis, n)
    db = Database(database_url)
    env = {**os.environ, **settings_env(settings), "PYTHONPATH": str(PROJECT_ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.recorder_child", "doomed", env=env
    )
    try:
        for _ in range(600):  # until it has committed some batches, not all
            row = await db.fetchrow("SELECT count(*) AS n FROM ticket_events")
            if row is not None and row["n"] >= 40:
                break
            await asyncio.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        done = await db.fetchrow("SELECT count(*) AS n FROM ticket_events")
        assert done is not None and 0 < done["n"] < 4 * n  # killed part-way
        await drain(recorder_of(settings, redis, db, "heir"))  # claims what the dead one held
        await assert_complete(db, n)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await db.close()


async def test_postgres_killed_then_away_under_load_the_queue_runs_and_records_complete(
    redis: Redis, redis_server: object
) -> None:
    pg = await PostgresProcess().start_async()
    db = Database(await pg.fresh_database())
    try:
        settings = world_settings(redis_server.url, db.url)  # type: ignore[attr-defined]
        recorder = recorder_of(settings, redis, db, "main")
        recorder.start()
        first = await calls(settings, redis, 30)
        pg.kill()  # kill -9 of every postgres process, the recorder mid-stream
        during = await calls(settings, redis, 30, start=30)  # the live path carries on without it
        assert len(set(first + during)) == 60
        # A check while it is away: the live copy serves the offer; the record comes later.
        verdicts = VerdictStore(redis, settings.redis_prefix, 3600)
        verdict_id = await verdicts.save(PASSING, check_id="c-away", duration_s=4.0)
        assert (await verdicts.get(verdict_id)).passed
        queue = QueueStore(redis, settings)
        await queue.agent_away("ana")
        checked = await queue.join(
            JoinRequest("customer-token-durable-checked", "ASL", "phone", "normal", verdict_id=verdict_id)
        )
        assert not await db.healthy()
        await asyncio.sleep(2)  # away a while (longer outages: docs/operations.md, a minute measured by hand)
        assert (await recorder.lag()).behind > 0  # events wait in the streams
        await asyncio.to_thread(pg.restart)
        for _ in range(500):  # it catches up by itself
            if (await recorder.lag()).behind == 0 and await db.healthy():
                row = await db.fetchrow("SELECT count(*) AS n FROM tickets WHERE rating = 4")
                if row is not None and row["n"] == 60:
                    break
            await asyncio.sleep(0.05)
        await recorder.stop()
        record = await RecordStore(db, 90).get(checked.ticket.id)
        assert record is not None and record.check is not None and record.check.found and record.check.passed
        await assert_complete(db, 60, waiting=1)
    finally:
        await db.close()
        pg.remove()
