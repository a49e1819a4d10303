"""A recorder alone in a child process (settings from SIGNLINK_* variables), for kill -9 tests."""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from signlink.config import Settings
from signlink.db.database import Database
from signlink.queue.call_events import CallEventLog
from signlink.queue.store import QueueStore
from signlink.records.recorder import Recorder
from signlink.records.store import RecordStore


async def main(consumer: str) -> None:
    settings = Settings.from_env()
    redis = Redis.from_url(settings.redis_url)
    db = Database(settings.database_url)
    calls = CallEventLog(redis, settings.redis_prefix, maxlen=settings.queue_events_maxlen)
    recorder = Recorder(
        RecordStore(db, settings.record_retention_days),
        QueueStore(redis, settings),
        calls,
        consumer=consumer,
        batch=settings.recorder_batch,
    )
    await recorder.ensure_group()
    while True:  # until killed
        await recorder.step(block_ms=200)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
