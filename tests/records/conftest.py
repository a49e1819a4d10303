"""Records fixtures: the real queue (manual clock) and call events, and a recorder writing them into
the test PostgreSQL (emptied per test)."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.db.database import Database
from signlink.queue.call_events import CallEventLog
from signlink.queue.clock import ManualClock
from signlink.queue.events import QueueEvent
from signlink.queue.models import JoinRequest, Placed
from signlink.queue.store import QueueStore
from signlink.records.recorder import Recorder
from signlink.records.reports import Reports
from signlink.records.rollup import Rollup
from signlink.records.row import row_of
from signlink.records.sessions import SessionRecords
from signlink.records.store import Batch, RecordStore
from signlink.records.verdicts import VerdictStore

RETENTION_S = 90 * 86400
_tokens = itertools.count(1)


@dataclass
class Now:
    """The recorder's clock (follow-ups), moved by hand."""

    t: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.t


@dataclass
class World:
    settings: Settings
    clock: ManualClock
    now: Now
    queue: QueueStore
    verdicts: VerdictStore
    sessions: SessionRecords
    calls: CallEventLog
    store: RecordStore
    recorder: Recorder
    redis: Redis

    def reports(self) -> Reports:
        return Reports(
            self.store,
            languages=self.settings.sign_languages,
            topics=self.settings.topics,
            thresholds=(120, 30),
        )

    def another_recorder(self, consumer: str, **kw: Any) -> Recorder:
        return Recorder(
            self.store, self.queue, self.calls, self.verdicts, consumer=consumer, clock=self.now, **kw
        )

    async def join(self, lang: str = "ASL", topic: str = "phone", **kw: Any) -> Placed:
        token = f"customer-token-{next(_tokens):08d}"
        return await self.queue.join(JoinRequest(token, lang, topic, kw.pop("cls", "normal"), **kw))

    async def replay(self, events: list[QueueEvent]) -> None:
        """Write queue events again through the recorder's write path (as after a crash)."""
        await self.store.write_batch(Batch(queue=events), self.recorder._live_verdict)

    async def forget(self, ticket_id: str) -> None:
        """Remove a ticket's rows and timeline (to record its events again from nothing)."""
        record = await self.store.get(ticket_id)
        async with self.store.db.transaction() as conn:
            rollup = Rollup()  # its share leaves the hourly roll-ups with it
            rollup.add(row_of(record) if record is not None else None, -1)
            await rollup.flush(conn)
            for table, column in (
                ("tickets", "id"),
                ("ticket_agents", "ticket_id"),
                ("ticket_events", "ticket_id"),
            ):
                await conn.execute(f"DELETE FROM {table} WHERE {column} = $1", ticket_id)

    async def drain_calls(self) -> None:
        """Record the call events only."""
        stream = self.recorder.streams[1]
        await stream.ensure_group()
        while entries := await stream.read(own_backlog=False, count=500):
            await self.recorder.handle([], entries)

    async def drain(self, recorder: Recorder | None = None) -> int:
        """Record every event in the stream; how many were handled."""
        r = recorder or self.recorder
        await r.ensure_group()
        total = 0
        while n := await r.step():
            total += n
        return total


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A pool on the emptied test database."""
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
async def world(redis: Redis, db: Database) -> World:
    settings = Settings(
        sign_languages=("CSL", "ASL", "BSL"),
        topics=("phone", "pc", "repair"),
        priority_classes=("emergency", "callback", "normal"),
        redis_prefix="rtest",
    )
    # The queue's clock runs half an hour behind the wall: wrap-ups and ratings (stamped with the
    # wall clock by records/sessions.py) then come after the calls they follow.
    clock = ManualClock(time.time() - 1800)
    now = Now()
    queue = QueueStore(redis, settings, clock=clock)
    verdicts = VerdictStore(redis, "rtest", 3600)
    sessions = SessionRecords(redis, "rtest", RETENTION_S)
    calls = CallEventLog(redis, "rtest", maxlen=100_000)
    store = RecordStore(db, 90)
    recorder = Recorder(store, queue, calls, verdicts, consumer="main", clock=now)
    return World(settings, clock, now, queue, verdicts, sessions, calls, store, recorder, redis)
