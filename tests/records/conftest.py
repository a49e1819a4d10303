"""Records fixtures: the real queue (manual clock) emitting events, and a recorder reading them."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.queue.clock import ManualClock
from signlink.queue.models import JoinRequest, Placed
from signlink.queue.store import QueueStore
from signlink.records.recorder import Recorder
from signlink.records.reports import Reports
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
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
    store: RecordStore
    recorder: Recorder

    def reports(self) -> Reports:
        return Reports(
            self.store,
            self.sessions,
            languages=self.settings.sign_languages,
            topics=self.settings.topics,
            thresholds=(120, 30),
        )

    def another_recorder(self, consumer: str, **kw: Any) -> Recorder:
        return Recorder(
            self.store,
            self.queue,
            self.verdicts,
            self.sessions,
            follow_max_s=7200,
            consumer=consumer,
            clock=self.now,
            **kw,
        )

    async def join(self, lang: str = "ASL", topic: str = "phone", **kw: Any) -> Placed:
        token = f"customer-token-{next(_tokens):08d}"
        return await self.queue.join(JoinRequest(token, lang, topic, kw.pop("cls", "normal"), **kw))

    async def drain(self, recorder: Recorder | None = None) -> int:
        """Record every event in the stream; how many were handled."""
        r = recorder or self.recorder
        await r.ensure_group()
        total = 0
        while n := await r.step():
            total += n
        return total


@pytest.fixture
async def world(redis: Redis) -> World:
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
    store = RecordStore(redis, "rtest", RETENTION_S)
    recorder = Recorder(store, queue, verdicts, sessions, follow_max_s=7200, consumer="main", clock=now)
    return World(settings, clock, now, queue, verdicts, sessions, store, recorder)
