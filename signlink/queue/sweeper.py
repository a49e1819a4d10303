"""The sweeper: one task per process that runs `QueueStore.sweep` every few seconds.

Deadlines live in Redis, so any process expires what any other (possibly dead) process made; the
sweep is one Lua script, so several sweepers at once do each thing exactly once. With Redis away the
task logs once, keeps trying, and carries on by itself when Redis returns.
"""

from __future__ import annotations

import asyncio
import logging

from signlink.deadline import stop_task
from signlink.errors import BackendUnavailable
from signlink.queue.store import QueueStore

log = logging.getLogger(__name__)

OUTAGE_GAP_MIN_S = 5.0


class Sweeper:
    def __init__(self, store: QueueStore, interval_s: float) -> None:
        self.store = store
        self.interval_s = interval_s
        # No sweep for this long means nobody could vouch (Redis away or stopped): grace starts again.
        self.outage_gap_s = max(OUTAGE_GAP_MIN_S, 5 * interval_s)
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="queue-sweeper")

    async def stop(self) -> None:
        # The flag as well as cancel(): redis-py 8.1 can swallow a cancellation that lands inside a
        # command (seen here: the task went back to sleep with cancelling() == 1).
        self._stopping = True
        task, self._task = self._task, None
        await stop_task(task, "the sweeper")

    async def sweep_once(self) -> None:
        """Sweep until nothing due is left (a batch limit keeps each script short)."""
        while True:
            result = await self.store.sweep(outage_gap_s=self.outage_gap_s)
            if result.expired_offers or result.abandoned or result.agents_logged_out:
                log.info(
                    "sweep: %s offers expired, %s tickets abandoned, %s agents logged out",
                    result.expired_offers,
                    result.abandoned,
                    result.agents_logged_out,
                )
            if not result.more:
                return

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.sweep_once()
            except BackendUnavailable as exc:
                if not self._failing:
                    log.warning("queue sweeper paused: %s", exc)
                self._failing = True
            except Exception:
                # A bug must not stop expiry for good: log it and try again next round.
                log.exception("queue sweep failed")
            else:
                if self._failing:
                    log.info("queue sweeper running again")
                self._failing = False
            await asyncio.sleep(self.interval_s)
