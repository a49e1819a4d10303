"""Background work of the call service: tail the queue's events stream, run periodic jobs.

Every process tails `{prefix}:events` from the moment it starts (XREAD BLOCK), so whatever any process
or sweeper did to the queue (an offer made on a join, an expiry, an auto-away) reaches the connections
this process holds, in the order it happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from signlink.deadline import stop_task
from signlink.errors import BackendUnavailable
from signlink.queue.events import QueueEvent
from signlink.queue.store import QueueStore
from signlink.redisio.backoff import Backoff

log = logging.getLogger(__name__)

BLOCK_MS = 1000  # below the Redis client's socket timeout (2 s)


class EventFeed:
    def __init__(self, store: QueueStore, handle: Callable[[QueueEvent], Awaitable[None]]) -> None:
        self._store = store
        self._handle = handle
        self._task: asyncio.Task[None] | None = None
        self.last_id = "$"
        self.reading = False  # the last read worked (/healthz: events reach this process's sockets)

    async def start(self) -> None:
        # Start from the stream's current end, read once now: nothing that happens after start() is missed.
        self.last_id = await self._store.last_event_id()
        self.reading = True
        self._task = asyncio.create_task(self._run(), name="queue-event-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task, "a queue feed")

    async def _run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                # After a failure, one read that does not block: reading again is known at once.
                block = BLOCK_MS if self.reading else None
                events = await self._store.read_events(self.last_id, count=500, block_ms=block)
            except BackendUnavailable as exc:
                if self.reading:
                    log.warning("queue event feed paused: %s", exc)
                self.reading = False
                await asyncio.sleep(backoff.pause())
                continue
            if not self.reading:
                log.info("queue event feed running again")
                self.reading = True
                backoff.reset()
            for event in events:
                self.last_id = event.id
                try:
                    await self._handle(event)
                except BackendUnavailable as exc:
                    log.warning("event %s (%s) not handled: %s", event.id, event.type, exc)
                except Exception:
                    log.exception("event %s (%s) not handled", event.id, event.type)


class Periodic:
    """Run `job` every `interval_s` until stopped; errors are logged, never fatal."""

    def __init__(self, name: str, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.interval_s = interval_s
        self._job = job
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task, "a periodic push")

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self._job()
            except BackendUnavailable as exc:
                if not failing:
                    log.warning("%s paused: %s", self.name, exc)
                failing = True
                continue
            except Exception:
                log.exception("%s failed", self.name)
                continue
            if failing:
                log.info("%s running again", self.name)
                failing = False
