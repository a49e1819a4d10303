"""The recorder: the one writer of records. It reads the queue's events and the call events through
their consumer groups and writes them into PostgreSQL in batches, one transaction each.

Every process runs one; the group `records` hands each event to one of them. Events are acknowledged
only after their transaction commits; an event a dead process had taken is claimed by another after
`claim_idle_ms`. Writes are idempotent (records/store.py), so an event handled twice (a process that
died between commit and acknowledgement) changes nothing. An event that cannot be understood is kept
in `dead_events` and acknowledged, so it cannot stall the rest.

PostgreSQL away: nothing is acknowledged, the events wait in the streams, the recorder retries every
second and catches up by itself. The streams are capped (`queue_events_maxlen`): `lag()` feeds
/metrics and /healthz, and a recorder further behind than `lag_alarm` logs an error every minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from signlink.errors import BackendUnavailable, NotFound
from signlink.queue.call_events import CallEventLog, parse_call_event
from signlink.queue.consumer import Entry, Lag, StreamConsumer
from signlink.queue.events import parse_event
from signlink.queue.store import QueueStore
from signlink.records.store import Batch, RecordStore
from signlink.records.verdicts import VerdictRecord, VerdictStore

log = logging.getLogger(__name__)

GROUP = "records"
BLOCK_MS = 500  # below the Redis client's socket timeout (2 s)
CLAIM_IDLE_MS = 30_000  # an event taken this long ago and not acknowledged: its process is gone
RETRY_S = 1.0
WAITING_EVERY_S = 30.0
TIDY_EVERY_S = 600.0
ALARM_EVERY_S = 60.0
CONSUMER_IDLE_DROP_MS = 3_600_000


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class RecorderLag:
    queue: Lag
    calls: Lag

    @property
    def behind(self) -> int:
        return self.queue.behind + self.calls.behind


class Recorder:
    def __init__(
        self,
        store: RecordStore,
        queue: QueueStore,
        calls: CallEventLog,
        verdicts: VerdictStore | None = None,
        *,
        consumer: str | None = None,
        batch: int = 500,
        lag_alarm: int = 20_000,
        clock: Callable[[], float] = time.time,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.store = store
        self.queue = queue
        self.verdicts = verdicts
        self.consumer = consumer or consumer_name()
        self.batch = batch
        self.lag_alarm = lag_alarm
        self.clock = clock
        self.claim_idle_ms = claim_idle_ms
        self.streams: tuple[StreamConsumer, StreamConsumer] = (
            queue.consumer(GROUP, self.consumer),
            calls.consumer(GROUP, self.consumer),
        )
        self._backlog = True  # our own unacknowledged events come first (after a start or a failure)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.recorded = 0  # events recorded by this process (for /metrics)
        self.database_ok = True
        self.behind = 0

    # -- life ------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="qa-recorder")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def ensure_group(self) -> None:
        for stream in self.streams:
            await stream.ensure_group()

    async def _run(self) -> None:
        failing = False
        next_waiting = next_tidy = next_alarm = 0.0
        grouped = False
        while not self._stopping:
            try:
                if not grouped:
                    await self.ensure_group()
                    grouped = True
                n = await self.step(block_ms=BLOCK_MS)
                self.database_ok = True
                now = time.monotonic()
                if now >= next_waiting:
                    next_waiting = now + WAITING_EVERY_S
                    await self.sample_waiting()
                if now >= next_tidy:
                    next_tidy = now + TIDY_EVERY_S
                    await self.tidy()
                if now >= next_alarm and n:
                    next_alarm = now + ALARM_EVERY_S
                    await self.check_lag()
            except BackendUnavailable as exc:
                if "PostgreSQL" in str(exc):
                    self.database_ok = False
                if not failing:
                    log.warning("QA recorder paused (events wait in the streams): %s", exc)
                failing = True
                now = time.monotonic()
                if now >= next_alarm:  # the streams fill up while we wait: say so before the cap bites
                    next_alarm = now + ALARM_EVERY_S
                    with contextlib.suppress(BackendUnavailable):
                        await self.check_lag()
                await asyncio.sleep(RETRY_S)
                continue
            except Exception:
                log.exception("QA recorder failed; trying again")
                await asyncio.sleep(RETRY_S)
                continue
            if failing:
                log.info("QA recorder running again")
                failing = False

    # -- events ----------------------------------------------------------------------------------------

    async def step(self, *, block_ms: int | None = None) -> int:
        """Read and record one batch of each stream: our own unacknowledged events, else a dead
        consumer's, else new ones (waiting up to block_ms once). Returns how many were handled."""
        entries: list[list[Entry]] = []
        for i, stream in enumerate(self.streams):
            found: list[Entry] = []
            if self._backlog:
                found = await stream.read(own_backlog=True, count=self.batch)
            if not found:
                found = await stream.claim_stale(self.claim_idle_ms, self.batch)
            if not found:
                wait = block_ms if i == len(self.streams) - 1 and not any(entries) else None
                found = await stream.read(own_backlog=False, count=self.batch, block_ms=wait)
            entries.append(found)
        self._backlog = False
        try:
            return await self.handle(entries[0], entries[1])
        except BackendUnavailable:
            self._backlog = True  # the rest stays pending: read again from our own backlog
            raise

    async def handle(self, queue_entries: list[Entry], call_entries: list[Entry]) -> int:
        """Record the entries in one transaction, then acknowledge them."""
        if not queue_entries and not call_entries:
            return 0
        batch = Batch()
        dead: list[tuple[str, str, dict[str, str], str]] = []
        for entry_id, fields in queue_entries:
            try:
                batch.queue.append(parse_event(entry_id, fields))
            except (KeyError, ValueError) as exc:
                dead.append((self.streams[0].key, entry_id, fields, str(exc)))
        for entry_id, fields in call_entries:
            try:
                batch.calls.append(parse_call_event(entry_id, fields))
            except (KeyError, ValueError, TypeError) as exc:
                dead.append((self.streams[1].key, entry_id, fields, str(exc)))
        for stream, entry_id, fields, error in dead:
            log.error("event %s of %s is not understood (%s): kept in dead_events", entry_id, stream, error)
            await self.store.dead_letter(stream, entry_id, fields, error)
        try:
            await self.store.write_batch(batch, self._live_verdict)
        except BackendUnavailable:
            raise
        except Exception as exc:
            # One bad event must not stall the rest: record them one by one, keep the failing ones.
            log.warning(
                "a batch of %d events failed (%s); recording them one by one",
                len(queue_entries) + len(call_entries),
                exc,
            )
            await self._one_by_one(batch)
        await self.streams[0].ack([i for i, _ in queue_entries])
        await self.streams[1].ack([i for i, _ in call_entries])
        n = len(queue_entries) + len(call_entries)
        self.recorded += n
        return n

    async def _one_by_one(self, batch: Batch) -> None:
        for q in batch.queue:
            try:
                await self.store.write_batch(Batch(queue=[q]), self._live_verdict)
            except BackendUnavailable:
                raise
            except Exception as exc:
                log.exception("queue event %s (%s) could not be recorded: kept in dead_events", q.id, q.type)
                await self.store.dead_letter(self.streams[0].key, q.id, {"type": q.type.value}, repr(exc))
        for c in batch.calls:
            try:
                await self.store.write_batch(Batch(calls=[c]), self._live_verdict)
            except BackendUnavailable:
                raise
            except Exception as exc:
                log.exception("call event %s (%s) could not be recorded: kept in dead_events", c.id, c.type)
                await self.store.dead_letter(self.streams[1].key, c.id, {"type": c.type.value}, repr(exc))

    async def _live_verdict(self, verdict_id: str) -> VerdictRecord | None:
        """A verdict not yet in PostgreSQL (its event comes later in the other stream): the live copy."""
        if self.verdicts is None:
            return None
        try:
            return await self.verdicts.get(verdict_id)
        except NotFound:
            return None

    # -- the waiting gauge, tidying, lag ---------------------------------------------------------------

    async def sample_waiting(self) -> None:
        snapshot = await self.queue.snapshot()
        waiting = sum(line.waiting + line.offered for line in snapshot.lines)
        await self.store.note_waiting(snapshot.at, waiting)

    async def tidy(self) -> None:
        dropped = await self.store.drop_expired(self.clock())
        if dropped:
            log.info("retention: dropped %d partitions (%s ...)", len(dropped), dropped[0])
        for stream in self.streams:
            await stream.drop_idle_consumers(CONSUMER_IDLE_DROP_MS)

    async def lag(self) -> RecorderLag:
        queue, calls = (await self.streams[0].lag(), await self.streams[1].lag())
        self.behind = queue.behind + calls.behind
        return RecorderLag(queue, calls)

    async def check_lag(self) -> RecorderLag:
        lag = await self.lag()
        for stream, one in zip(self.streams, (lag.queue, lag.calls), strict=True):
            if one.behind > self.lag_alarm or one.behind > one.maxlen // 2:
                log.error(
                    "QA recorder is %d events behind on %s (cap %d): events beyond the cap are lost; "
                    "add processes or raise the cap (docs/operations.md, Recorder lag)",
                    one.behind,
                    stream.key,
                    one.maxlen,
                )
        return lag

    @property
    def trimmed(self) -> int:
        return sum(s.trimmed for s in self.streams)
