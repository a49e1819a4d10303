"""The recorder: one task per process that turns the queue's events into QA records.

Every process runs one, and all of them read `{prefix}:events` through one Redis consumer group
(`records`), so each event is handed to one process. An event is acknowledged (XACK) only after its
record is written; an event a dead process had taken is claimed by another after `claim_idle_ms`
(XAUTOCLAIM). Writes are idempotent (records/ticket.py: records are facts), so an event handled twice
(a process that died between writing and acknowledging) changes nothing the second time. An event
that cannot be understood is kept in the dead-letter list and acknowledged, so it cannot stall the rest.

The stream is capped by the queue (`queue_events_maxlen`, ~100 000 events): a group that falls
further behind than that loses the oldest events; XAUTOCLAIM reports them and they are logged.

What the stream does not carry is collected later, by following each ended call up
(`RecordStore.follow`): the wrap-up and the rating (records/sessions.py, which may come long after
the call ended) and the call-quality samples. The recorder also samples the number of customers
waiting into the hour's bucket for the dashboard's chart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from signlink.deadline import stop_task
from signlink.errors import BackendUnavailable, NotFound
from signlink.queue.events import EventType, QueueEvent, parse_event
from signlink.queue.store import QueueStore
from signlink.records.quality import summarise
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
from signlink.records.ticket import CheckCopy, SessionFacts, TicketRecord
from signlink.records.verdicts import VerdictStore

log = logging.getLogger(__name__)

GROUP = "records"
BLOCK_MS = 1000  # below the Redis client's socket timeout (2 s)
BATCH = 200
CLAIM_IDLE_MS = 30_000  # an event taken this long ago and not acknowledged: its process is gone
RETRY_S = 1.0
FOLLOW_FIRST_S = 15.0  # the first look after a call ends (late quality samples are in by then)
FOLLOW_BATCH = 100
FOLLOW_LEASE_S = 60.0
FOLLOW_EVERY_S = 5.0
WAITING_EVERY_S = 30.0
CONSUMER_IDLE_DROP_MS = 3_600_000
TICKET_EVENTS = frozenset(
    {
        EventType.TICKET_JOINED,
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


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def check_copy(verdict_id: str, verdicts_record: Any | None) -> CheckCopy:
    """What QA keeps of a verdict (records.verdicts.VerdictRecord), or a 'not found' marker."""
    if verdicts_record is None:
        return CheckCopy(verdict_id=verdict_id, found=False)
    v = verdicts_record
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


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Recorder:
    def __init__(
        self,
        store: RecordStore,
        queue: QueueStore,
        verdicts: VerdictStore,
        sessions: SessionRecords,
        *,
        follow_max_s: float,
        consumer: str | None = None,
        clock: Callable[[], float] = time.time,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.store = store
        self.queue = queue
        self.verdicts = verdicts
        self.sessions = sessions
        self.follow_max_s = follow_max_s
        self.consumer = consumer or consumer_name()
        self.clock = clock
        self.claim_idle_ms = claim_idle_ms
        self._redis: Redis = store.redis
        self._stream = queue.events_key
        self._backlog = True  # our own unacknowledged events come first (after a start or a failure)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- life ------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="qa-recorder")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        await stop_task(task, "the recorder")

    async def ensure_group(self) -> None:
        """Create the consumer group (from the stream's first entry: nothing kept is skipped)."""
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise BackendUnavailable(f"cannot create the records consumer group: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot create the records consumer group: {exc}") from exc

    async def _run(self) -> None:
        failing = False
        next_follow = next_waiting = next_tidy = 0.0
        while not self._stopping:
            try:
                await self.step(block_ms=BLOCK_MS)
                now = time.monotonic()
                if now >= next_follow:
                    next_follow = now + FOLLOW_EVERY_S
                    while await self.follow_ups() == FOLLOW_BATCH:
                        pass
                if now >= next_waiting:
                    next_waiting = now + WAITING_EVERY_S
                    await self.sample_waiting()
                if now >= next_tidy:
                    next_tidy = now + 600
                    await self.drop_idle_consumers()
            except BackendUnavailable as exc:
                if not failing:
                    log.warning("QA recorder paused: %s", exc)
                failing = True
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
        """Read and record one batch: our own unacknowledged events, else a dead consumer's, else new
        ones (waiting up to block_ms). Returns how many events were handled."""
        try:
            if self._backlog:
                entries = await self._read("0", None)
                if entries:
                    return await self._handle_all(entries)
                self._backlog = False
            entries = await self._claim()
            if not entries:
                entries = await self._read(">", block_ms)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream was deleted (or Redis lost it): start again
                await self.ensure_group()
                return 0
            raise BackendUnavailable(f"cannot read the queue events: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the queue events: {exc}") from exc
        return await self._handle_all(entries)

    async def _read(self, start: str, block_ms: int | None) -> list[tuple[Any, Any]]:
        reply: Any = await self._redis.xreadgroup(
            GROUP, self.consumer, {self._stream: start}, count=BATCH, block=block_ms
        )
        out: list[tuple[Any, Any]] = []
        for _stream, entries in reply or []:
            out += entries
        return out

    async def _claim(self) -> list[tuple[Any, Any]]:
        reply: Any = await self._redis.xautoclaim(
            self._stream, GROUP, self.consumer, self.claim_idle_ms, start_id="0-0", count=BATCH
        )
        claimed = list(reply[1]) if reply else []
        deleted = list(reply[2]) if reply and len(reply) > 2 else []
        if deleted:
            log.error(
                "%d queue events were trimmed from the stream before they were recorded (first %s)",
                len(deleted),
                _s(deleted[0]),
            )
        # A deleted entry can come back as (id, None) too: nothing left to record.
        gone = [entry_id for entry_id, fields in claimed if fields is None]
        if gone:
            await self._redis.xack(self._stream, GROUP, *gone)
        if claimed:
            log.info("claimed %d queue events left unrecorded by another process", len(claimed) - len(gone))
        return [(entry_id, fields) for entry_id, fields in claimed if fields is not None]

    async def _handle_all(self, entries: list[tuple[Any, Any]]) -> int:
        done = []
        try:
            for entry_id, fields in entries:
                await self._handle_entry(_s(entry_id), fields)
                done.append(entry_id)
        except BackendUnavailable:
            self._backlog = True  # the rest stays pending: read again from our own backlog
            raise
        finally:
            if done:
                try:
                    await self._redis.xack(self._stream, GROUP, *done)
                except (RedisError, OSError) as exc:
                    self._backlog = True
                    log.warning(
                        "could not acknowledge %d recorded events (they will be seen again): %s",
                        len(done),
                        exc,
                    )
        return len(done)

    async def _handle_entry(self, entry_id: str, fields: Any) -> None:
        try:
            event = parse_event(entry_id, fields)
        except (KeyError, ValueError) as exc:
            log.error("queue event %s is not understood (%s): kept in the dead letters", entry_id, exc)
            await self._dead(entry_id, fields, str(exc))
            return
        try:
            await self.record(event)
        except BackendUnavailable:
            raise
        except Exception as exc:
            log.exception(
                "queue event %s (%s) could not be recorded: kept in the dead letters", entry_id, event.type
            )
            await self._dead(entry_id, fields, repr(exc))

    async def _dead(self, entry_id: str, fields: Any, error: str) -> None:
        body = {_s(k): _s(v) for k, v in (fields or {}).items()}
        await self.store.dead_letter(json.dumps({"id": entry_id, "fields": body, "error": error}))

    async def record(self, event: QueueEvent) -> TicketRecord | None:
        """Write what `event` says into its ticket's record (idempotent)."""
        if event.type is EventType.TICKET_UNSERVED:
            record_id = f"u{event.id}"
        elif event.type in TICKET_EVENTS and event.ticket_id:
            record_id = event.ticket_id
        else:
            return None
        check = None
        if event.type is EventType.TICKET_JOINED and event.verdict_id and event.verdict_id != "none":
            check = await self._check(event.verdict_id)

        def change(record: TicketRecord) -> None:
            record.apply(event)
            # A found verdict wins over a 'not found' copy (a replay after the verdict expired).
            if check is not None and (check.found or record.check is None):
                record.check = check

        record = await self.store.update(record_id, change)
        if event.type is EventType.SESSION_ENDED and event.ticket_id and event.session_id:
            await self.store.follow(event.ticket_id, event.session_id, event.at + FOLLOW_FIRST_S)
        return record

    async def _check(self, verdict_id: str) -> CheckCopy:
        try:
            return check_copy(verdict_id, await self.verdicts.get(verdict_id))
        except NotFound:
            return check_copy(verdict_id, None)

    # -- follow-ups --------------------------------------------------------------------------------------

    async def follow_ups(self) -> int:
        """Look again at the ended calls that are due: wrap-up, rating, quality. Returns how many."""
        now = self.clock()
        due = await self.store.claim_follows(now, FOLLOW_BATCH, FOLLOW_LEASE_S)
        for ticket_id, session_id in due:
            await self._follow(ticket_id, session_id, now)
        return len(due)

    async def _follow(self, ticket_id: str, session_id: str, now: float) -> None:
        try:
            session = await self.sessions.get(session_id)
        except NotFound:
            session = None
        samples = (await self.store.samples([session_id]))[session_id]
        facts = SessionFacts(
            session_id=session_id,
            wrap_outcome=session.outcome if session else None,
            wrapped_at=session.wrapped_at if session else None,
            rating=session.rating if session else None,
            rated_at=session.rated_at if session else None,
            quality=summarise(samples) if samples else None,
        )
        record = await self.store.update(ticket_id, lambda r: r.apply_session_facts(facts))
        part = record.sessions.get(session_id)
        ended_at = part.ended_at if part and part.ended_at is not None else now
        age = now - ended_at
        settled = session is not None and session.wrapped_at is not None and session.rating is not None
        if (settled and age >= FOLLOW_FIRST_S) or age >= self.follow_max_s:
            await self.store.unfollow(ticket_id, session_id)
        else:
            step = 15.0 if age < 120 else 60.0 if age < 1200 else 300.0
            await self.store.follow(ticket_id, session_id, now + step, only_new=False)

    # -- the waiting gauge, tidying ------------------------------------------------------------------------

    async def sample_waiting(self) -> None:
        snapshot = await self.queue.snapshot()
        waiting = sum(line.waiting + line.offered for line in snapshot.lines)
        await self.store.note_waiting(snapshot.at, waiting)

    async def backlog(self) -> tuple[int, int | None]:
        """(events handed out but not yet recorded, events not yet handed out; None if Redis cannot say)."""
        try:
            groups: Any = await self._redis.xinfo_groups(self._stream)
        except ResponseError:
            return 0, None  # no stream yet
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the consumer group: {exc}") from exc
        for g in groups:
            if _s(g["name"]) == GROUP:
                lag = g.get("lag")
                return int(g["pending"]), None if lag is None else int(lag)
        return 0, None

    async def drop_idle_consumers(self) -> None:
        """Forget consumers of dead processes once nothing is pending for them."""
        try:
            consumers: Any = await self._redis.xinfo_consumers(self._stream, GROUP)
            for c in consumers:
                name = _s(c["name"])
                if (
                    name != self.consumer
                    and int(c["pending"]) == 0
                    and int(c["idle"]) > CONSUMER_IDLE_DROP_MS
                ):
                    await self._redis.xgroup_delconsumer(self._stream, GROUP, name)
        except ResponseError:
            return  # no group yet
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot tidy the consumer group: {exc}") from exc
