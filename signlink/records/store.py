"""RecordStore: the one class that owns the QA records' Redis keys.

Keys (R = "{redis_prefix}:rec"; hours and days are epoch seconds // 3600 and // 86400, UTC):
    R:t:<ticket id>      string  the TicketRecord as JSON (records/ticket.py)
    R:rows:<hour>        hash    ticket id -> its Row (records/row.py) for tickets joined in that hour
    R:b:h:<hour>         hash    "<language>/<topic>|<counter>" and "*|<counter>": the sums of the
    R:b:d:<day>                  contributions (records/aggregates.py) of the tickets joined then
    R:ba:h:<hour>        hash    "<agent id>|<counter>": the same per agent
    R:ba:d:<day>
    R:q:<session id>     string  the call's quality samples, packed (records/quality.py), capped
    R:follow             zset    "<ticket id>|<session id>" by when to look at the ended call again
    R:totals             hash    every "*" counter since the start, never expiring (for /metrics)
    R:dead               list    events that could not be recorded (the newest 1000), for a human

Retention: every key but the last three expires `retention_s` after its hour/day ends (records:
after their last change); R:follow entries leave when their call is settled.

A record changes in one optimistic transaction (WATCH the record, read it, change it, then MULTI:
the record, its row and the buckets' differences, EXEC), so the buckets always equal the sum of the
rows whatever the order or repetition of updates, across any number of processes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, WatchError

from signlink.errors import BackendUnavailable
from signlink.quality.verdict import Criterion
from signlink.records import aggregates
from signlink.records.aggregates import Contribution, Counters
from signlink.records.quality import MAX_SAMPLES_PER_SESSION, SAMPLE_BYTES, QualitySample, pack, unpack
from signlink.records.row import Row, row_of
from signlink.records.ticket import TicketRecord

log = logging.getLogger(__name__)

_LUA = resources.files("signlink.records").joinpath("lua")
HOUR = 3600
DAY = 86400
ALL = "*"
DEAD_KEEP = 1000
MAX_WATCH_RETRIES = 50


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _num(value: bytes | str | None) -> float:
    return float(value) if value else 0.0


def covering(start_hour: int, end_hour: int) -> list[tuple[str, int]]:
    """The fewest buckets for [start_hour, end_hour): whole days as ("d", day), the rest as ("h", hour)."""
    out = []
    h = start_hour
    while h < end_hour:
        if h % 24 == 0 and h + 24 <= end_hour:
            out.append(("d", h // 24))
            h += 24
        else:
            out.append(("h", h))
            h += 1
    return out


class RecordStore:
    def __init__(self, redis: Redis, prefix: str, retention_s: int) -> None:
        self.redis = redis
        self.retention_s = retention_s
        self._p = f"{prefix}:rec"
        self._append = redis.register_script(_LUA.joinpath("append_sample.lua").read_text())
        self._claim = redis.register_script(_LUA.joinpath("claim_due.lua").read_text())
        self._gauge_max = redis.register_script(_LUA.joinpath("gauge_max.lua").read_text())

    # -- keys ------------------------------------------------------------------------------------------

    def record_key(self, record_id: str) -> str:
        return f"{self._p}:t:{record_id}"

    def rows_key(self, hour: int) -> str:
        return f"{self._p}:rows:{hour}"

    def bucket_key(self, grain: str, n: int, *, agents: bool = False) -> str:
        return f"{self._p}:{'ba' if agents else 'b'}:{grain}:{n}"

    def samples_key(self, session_id: str) -> str:
        return f"{self._p}:q:{session_id}"

    @property
    def follow_key(self) -> str:
        return f"{self._p}:follow"

    @property
    def totals_key(self) -> str:
        return f"{self._p}:totals"

    @property
    def dead_key(self) -> str:
        return f"{self._p}:dead"

    def _expire_at(self, grain: str, n: int) -> int:
        return (n + 1) * (HOUR if grain == "h" else DAY) + self.retention_s

    # -- records ---------------------------------------------------------------------------------------

    async def get(self, record_id: str) -> TicketRecord | None:
        try:
            raw = await self.redis.get(self.record_key(record_id))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the record: {exc}") from exc
        return TicketRecord.loads(raw) if raw else None

    async def update(self, record_id: str, change: Callable[[TicketRecord], None]) -> TicketRecord:
        """Apply `change` to the record (created empty if new) and write it with its row and buckets."""
        key = self.record_key(record_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for _ in range(MAX_WATCH_RETRIES):
                    try:
                        await pipe.watch(key)
                        raw = await pipe.get(key)
                        old = TicketRecord.loads(raw) if raw else None
                        new = TicketRecord.loads(raw) if raw else TicketRecord(record_id)
                        change(new)
                        if old is not None and new == old:
                            await pipe.unwatch()  # type: ignore[no-untyped-call]
                            return new  # nothing new: an event seen before
                        pipe.multi()  # type: ignore[no-untyped-call]
                        self.write(pipe, old, new)
                        await pipe.execute()
                        return new
                    except WatchError:
                        continue
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot write the record {record_id}: {exc}") from exc
        raise BackendUnavailable(f"record {record_id} kept changing under us ({MAX_WATCH_RETRIES} tries)")

    def write(
        self, pipe: Pipeline, old: TicketRecord | None, new: TicketRecord, deltas: Deltas | None = None
    ) -> None:
        """Queue the commands that store `new` in place of `old`: the one write path of every record.
        Bucket increments go to `deltas` when given (a batch adds each field once), else straight on."""
        own = deltas is None
        acc = Deltas() if deltas is None else deltas
        pipe.set(self.record_key(new.id), new.dumps(), ex=self.retention_s)
        old_row = row_of(old) if old is not None else None
        new_row = row_of(new)
        if new_row is not None:
            hour = int(new_row.at // HOUR)
            rows_key = self.rows_key(hour)
            pipe.hset(rows_key, new.id, new_row.dumps())
            acc.expire(rows_key, self._expire_at("h", hour))
            pair = f"{new_row.language}/{new_row.topic}"  # fixed once the row exists (the joined event)
            old_part = aggregates.contribution(old_row)
            self._add_difference(acc, hour, pair, aggregates.contribution(new_row), old_part)
        if own:
            acc.flush(pipe)

    def _add_difference(
        self, acc: Deltas, hour: int, pair: str, new: Contribution, old: Contribution
    ) -> None:
        delta = aggregates.difference(new.fields, old.fields)
        agent_delta: dict[str, Counters] = {}
        for agent in new.agents.keys() | old.agents.keys():
            d = aggregates.difference(new.agents.get(agent, {}), old.agents.get(agent, {}))
            if d:
                agent_delta[agent] = d
        for grain, n in (("h", hour), ("d", hour // 24)):
            if delta:
                key = self.bucket_key(grain, n)
                for name, value in delta.items():
                    acc.add(key, f"{pair}|{name}", value)
                    acc.add(key, f"{ALL}|{name}", value)
                acc.expire(key, self._expire_at(grain, n))
            if agent_delta:
                akey = self.bucket_key(grain, n, agents=True)
                for agent, d in agent_delta.items():
                    for name, value in d.items():
                        acc.add(akey, f"{agent}|{name}", value)
                acc.expire(akey, self._expire_at(grain, n))
        for name, value in delta.items():
            acc.add(self.totals_key, name, value)

    async def write_new(self, records: Iterable[TicketRecord]) -> None:
        """Store records known to be new, pipelined without WATCH (bulk loads: the benchmark, tests)."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                acc = Deltas()
                for record in records:
                    self.write(pipe, None, record, acc)
                acc.flush(pipe)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot write records: {exc}") from exc

    async def dead_letter(self, entry: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.lpush(self.dead_key, entry)
                pipe.ltrim(self.dead_key, 0, DEAD_KEEP - 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot write the dead letter: {exc}") from exc

    # -- rows ------------------------------------------------------------------------------------------

    async def hour_rows(
        self, hours: Sequence[int], keep: Callable[[bytes], bool] | None = None
    ) -> list[list[Row]]:
        """The rows of each hour, oldest first within the hour. `keep` looks at each stored row
        before it is parsed (a cheap first filter: most rows of a long period are skipped unread)."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for hour in hours:
                    pipe.hvals(self.rows_key(hour))
                replies: list[list[bytes]] = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the records: {exc}") from exc
        out = []
        for values in replies:
            rows = [Row.loads(v) for v in values if keep is None or keep(v)]
            rows.sort(key=lambda r: (r.at, r.id))
            out.append(rows)
        return out

    async def scan(
        self,
        start_hour: int,
        end_hour: int,
        *,
        newest_first: bool = False,
        batch: int = 24,
        keep: Callable[[bytes], bool] | None = None,
    ) -> AsyncIterator[list[Row]]:
        """Rows of [start_hour, end_hour), hour by hour (a few commands per `batch` hours)."""
        hours = list(range(start_hour, end_hour))
        if newest_first:
            hours.reverse()
        for i in range(0, len(hours), batch):
            chunk = hours[i : i + batch]
            for rows in await self.hour_rows(chunk, keep):
                yield rows[::-1] if newest_first else rows

    # -- buckets ---------------------------------------------------------------------------------------

    async def _read(self, keys: Sequence[str], fields: Sequence[str] | None) -> list[dict[str, float]]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    if fields is None:
                        pipe.hgetall(key)
                    else:
                        pipe.hmget(key, list(fields))
                replies: list[Any] = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the figures: {exc}") from exc
        if fields is None:
            return [{_s(k): _num(v) for k, v in reply.items()} for reply in replies]
        return [
            {f: _num(v) for f, v in zip(fields, reply, strict=True) if v is not None} for reply in replies
        ]

    async def totals(self, start_hour: int, end_hour: int, pairs: Sequence[str] | None) -> Counters:
        """The counters of [start_hour, end_hour), over `pairs` ("lang/topic"; None: all)."""
        names = _counter_names()
        wanted = pairs if pairs is not None else [ALL]
        fields = [f"{pair}|{name}" for pair in wanted for name in names]
        keys = [self.bucket_key(grain, n) for grain, n in covering(start_hour, end_hour)]
        out: Counters = {}
        for part in await self._read(keys, fields):
            _fold(out, part)
        return out

    async def by_pair(self, start_hour: int, end_hour: int) -> dict[str, Counters]:
        keys = [self.bucket_key(grain, n) for grain, n in covering(start_hour, end_hour)]
        out: dict[str, Counters] = {}
        for part in await self._read(keys, None):
            for field, value in part.items():
                pair, _, name = field.partition("|")
                if pair != ALL:
                    aggregates.combine(out.setdefault(pair, {}), {name: value})
        return out

    async def by_agent(self, start_hour: int, end_hour: int) -> dict[str, Counters]:
        keys = [self.bucket_key(grain, n, agents=True) for grain, n in covering(start_hour, end_hour)]
        out: dict[str, Counters] = {}
        for part in await self._read(keys, None):
            for field, value in part.items():
                agent, _, name = field.rpartition("|")
                aggregates.combine(out.setdefault(agent, {}), {name: value})
        return out

    async def series(
        self, points: Sequence[tuple[int, int, int]], pairs: Sequence[str] | None, names: Sequence[str]
    ) -> list[tuple[int, Counters]]:
        """Counters `names` for each (label, from hour, to hour) of `points` (query.steps)."""
        wanted = pairs if pairs is not None else [ALL]
        fields = [f"{pair}|{name}" for pair in wanted for name in names]
        plan = [(label, covering(h, until)) for label, h, until in points]
        keys = [self.bucket_key(grain, n) for _, cover in plan for grain, n in cover]
        parts = iter(await self._read(keys, fields))
        out = []
        for label, cover in plan:
            counters: Counters = {}
            for _ in cover:
                _fold(counters, next(parts))
            out.append((label, counters))
        return out

    async def note_waiting(self, at: float, waiting: int) -> None:
        """Record `waiting` customers at `at`: each bucket keeps its highest."""
        hour = int(at // HOUR)
        buckets = (("h", hour), ("d", hour // 24))
        keys = [self.bucket_key(grain, n) for grain, n in buckets]
        expiries = [str(self._expire_at(grain, n)) for grain, n in buckets]
        try:
            await self._gauge_max(keys=keys, args=[f"{ALL}|max_waiting", str(waiting), *expiries])
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot record the queue length: {exc}") from exc

    async def all_time(self) -> Counters:
        try:
            raw = await self.redis.hgetall(self.totals_key)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the totals: {exc}") from exc
        return {_s(k): _num(v) for k, v in raw.items()}

    # -- call quality ------------------------------------------------------------------------------------

    async def add_sample(self, session_id: str, sample: QualitySample) -> bool:
        """Keep one sample of a call; False when the call already has the most kept."""
        try:
            size = await self._append(
                keys=[self.samples_key(session_id)],
                args=[pack(sample), MAX_SAMPLES_PER_SESSION * SAMPLE_BYTES, self.retention_s],
            )
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot store the call quality sample: {exc}") from exc
        return int(size) >= 0

    async def samples(self, session_ids: Sequence[str]) -> dict[str, list[QualitySample]]:
        if not session_ids:
            return {}
        try:
            raw = await self.redis.mget([self.samples_key(s) for s in session_ids])
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the call quality samples: {exc}") from exc
        pairs = zip(session_ids, raw, strict=True)
        return {s: unpack(data) if isinstance(data, bytes) else [] for s, data in pairs}

    # -- follow-ups of ended calls -------------------------------------------------------------------------

    async def follow(self, ticket_id: str, session_id: str, due: float, *, only_new: bool = True) -> None:
        try:
            await self.redis.zadd(self.follow_key, {f"{ticket_id}|{session_id}": due}, nx=only_new)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot schedule the follow-up: {exc}") from exc

    async def claim_follows(self, now: float, limit: int, lease_s: float) -> list[tuple[str, str]]:
        try:
            due = await self._claim(keys=[self.follow_key], args=[repr(now), limit, repr(now + lease_s)])
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the follow-ups: {exc}") from exc
        out = []
        for member in due:
            ticket_id, _, session_id = _s(member).partition("|")
            out.append((ticket_id, session_id))
        return out

    async def unfollow(self, ticket_id: str, session_id: str) -> None:
        try:
            await self.redis.zrem(self.follow_key, f"{ticket_id}|{session_id}")
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot drop the follow-up: {exc}") from exc

    async def memory(self) -> int:
        """Bytes Redis uses (INFO memory), for the benchmark."""
        info = await self.redis.info("memory")
        return int(info["used_memory"])


def _counter_names() -> list[str]:
    return [
        *aggregates.TICKET_FIELDS,
        *aggregates.OFFER_FIELDS,
        *aggregates.SUM_FIELDS,
        *aggregates.COUNT_FIELDS,
        *aggregates.HIST_FIELDS,
        *aggregates.CHECK_FIELDS,
        *aggregates.MAX_FIELDS,
        *(aggregates.FAIL_PREFIX + c.value for c in Criterion),
    ]


def _fold(into: Counters, fields: dict[str, float]) -> None:
    """Add bucket fields ("<pair>|<counter>") of any pairs into counters by name."""
    for field, value in fields.items():
        aggregates.combine(into, {field.split("|", 1)[1]: value})


class Deltas:
    """Bucket increments gathered before they are sent: one HINCRBY(FLOAT) per field."""

    def __init__(self) -> None:
        self._add: dict[tuple[str, str], float] = {}
        self._expire: dict[str, int] = {}

    def add(self, key: str, field: str, value: float) -> None:
        self._add[key, field] = self._add.get((key, field), 0) + value

    def expire(self, key: str, at: int) -> None:
        self._expire[key] = at

    def flush(self, pipe: Pipeline) -> None:
        for (key, field), value in self._add.items():
            if not value:
                continue
            # Sums are floats (HINCRBYFLOAT); every other counter stays a whole number (HINCRBY).
            if aggregates.is_float_field(field.rpartition("|")[2]):
                pipe.hincrbyfloat(key, field, round(value, 6))
            else:
                pipe.hincrby(key, field, round(value))
        for key, at in self._expire.items():
            pipe.expireat(key, at)
        self._add.clear()
        self._expire.clear()
