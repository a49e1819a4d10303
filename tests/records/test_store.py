"""The record store and the reports on the real Redis: buckets equal the rows, periods, pages, TTLs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from signlink.records import aggregates
from signlink.records.aggregates import Counters
from signlink.records.quality import QualitySample, Side
from signlink.records.query import CheckFilter, Filters, OutcomeFilter, steps
from signlink.records.reports import Reports
from signlink.records.row import Row, row_of
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
from signlink.records.ticket import TicketRecord
from tests.records.dataset import DAY, H10, tickets
from tests.support.redis_proc import RedisProcess

RETENTION_S = 90 * 86400
WHOLE_DAY = Filters.period(DAY, DAY + 86400)


@pytest.fixture
def store(redis: Redis) -> RecordStore:
    return RecordStore(redis, "rt", RETENTION_S)


def reports_of(store: RecordStore) -> Reports:
    return Reports(
        store,
        SessionRecords(store.redis, "rt", RETENTION_S),
        languages=("ASL", "BSL", "CSL"),
        topics=("phone", "pc"),
        thresholds=(120, 30),
    )


async def all_rows(store: RecordStore) -> list[Row]:
    return [row for rows in await store.hour_rows(range(DAY // 3600, DAY // 3600 + 24)) for row in rows]


async def assert_buckets_equal_rows(store: RecordStore) -> None:
    expected: Counters = {}
    for row in await all_rows(store):
        aggregates.combine(expected, aggregates.contribution(row).fields)
    got = await store.totals(WHOLE_DAY.start_hour, WHOLE_DAY.end_hour, None)
    assert {k: round(v, 6) for k, v in got.items() if v} == {k: round(v, 6) for k, v in expected.items() if v}


async def test_the_buckets_give_the_hand_computed_headline(store: RecordStore) -> None:
    await store.write_new(tickets())
    s = await reports_of(store).summary(WHOLE_DAY)
    assert s["period"]["from"] == "2027-01-15T00:00:00Z" and s["period"]["to"] == "2027-01-16T00:00:00Z"
    assert (s["tickets"], s["answered"], s["abandoned"], s["unserved"]) == (10, 6, 2, 1)
    assert s["service_level"] == [{"threshold_s": 120, "share": 0.5}, {"threshold_s": 30, "share": 0.25}]
    assert s["answer_time"] == {"avg_s": 83.8, "p90_s": 204.0}
    assert s["handle_time"] == {"avg_s": 323.3}
    assert s["rating"] == {"count": 4, "avg": 3.5}
    assert s["check"]["top_failing"][0] == {"criterion": "light", "count": 2}


async def test_a_period_of_whole_hours_and_a_language(store: RecordStore) -> None:
    await store.write_new(tickets())
    reports = reports_of(store)
    # 10:00-11:00 holds t1, t2, t3 (answered in 8, 25, 40 s).
    s = await reports.summary(Filters.period(H10, H10 + 3600))
    assert (s["tickets"], s["answered"]) == (3, 3)
    assert s["service_level"][1] == {"threshold_s": 30, "share": 0.6667}
    # Rounded out to whole hours: 10:30-10:40 is 10:00-11:00.
    assert (await reports.summary(Filters.period(H10 + 1800, H10 + 2400)))["tickets"] == 3
    # BSL: t5 (130), t6 (200), a2 abandoned.
    s = await reports.summary(Filters.period(DAY, DAY + 86400, language="BSL"))
    assert (s["tickets"], s["answered"], s["abandoned"]) == (3, 2, 1)
    assert s["service_level"][0]["share"] == 0.0
    s = await reports.summary(Filters.period(DAY, DAY + 86400, language="ASL", topic="pc"))
    assert (s["tickets"], s["answered"], s["answer_time"]["avg_s"]) == (2, 2, 70.0)  # t3 40, t4 100


async def test_filters_the_buckets_lack_scan_the_rows_to_the_same_figures(store: RecordStore) -> None:
    await store.write_new(tickets())
    reports = reports_of(store)
    # Checks passed: t1 (8 s), t2 (25 s), t5 (130 s) answered, w1 waiting.
    s = await reports.summary(Filters.period(DAY, DAY + 86400, check=CheckFilter.PASSED))
    assert (s["tickets"], s["answered"], s["waiting"]) == (4, 3, 1)
    assert s["service_level"][0]["share"] == 0.6667
    # ana took t1, t2, t4 and t6: 8, 25, 100, 200 s.
    s = await reports.summary(Filters.period(DAY, DAY + 86400, agent="ana"))
    assert (s["tickets"], s["answered"]) == (4, 4)
    assert s["service_level"][0]["share"] == 0.75
    s = await reports.summary(Filters.period(DAY, DAY + 86400, flagged=True))
    assert s["tickets"] == 1 and s["quality"]["flagged"] == 1
    s = await reports.summary(Filters.period(DAY, DAY + 86400, outcome=OutcomeFilter.TRANSFERRED))
    assert (s["tickets"], s["transferred"]) == (1, 1)
    # A scan with a filter every row passes equals the buckets.
    everything = await reports.summary(Filters.period(DAY, DAY + 86400, flagged=None))
    scanned = (await reports._scan(Filters.period(DAY, DAY + 86400), 24)).totals
    assert aggregates.summary(scanned, (120, 30)) == {k: v for k, v in everything.items() if k != "period"}


async def test_series_breakdowns_and_agents(store: RecordStore) -> None:
    await store.write_new(tickets())
    reports = reports_of(store)
    await store.note_waiting(H10 + 100, 4)
    await store.note_waiting(H10 + 200, 2)
    ts = await reports.timeseries(Filters.period(H10, H10 + 3 * 3600), 1)
    assert [(b["t"], b["tickets"], b["answered"], b["abandoned"]) for b in ts["buckets"]] == [
        (H10, 3, 3, 0),
        (H10 + 3600, 3, 3, 0),
        (H10 + 7200, 4, 0, 2),
    ]
    assert [b["max_waiting"] for b in ts["buckets"]] == [4, None, None]
    assert {b["le_s"]: b["count"] for b in ts["answer_time_histogram"] if b["count"]} == {
        10: 1,
        30: 1,
        45: 1,
        120: 1,
        150: 1,
        240: 1,
    }
    assert [(r["key"], r["tickets"]) for r in ts["by_language"]] == [("ASL", 6), ("BSL", 3), ("CSL", 1)]
    assert [(r["key"], r["tickets"]) for r in ts["by_topic"]] == [("phone", 7), ("pc", 3)]
    daily = await reports.timeseries(WHOLE_DAY, 24)
    assert [(b["t"], b["tickets"], b["max_waiting"]) for b in daily["buckets"]] == [(DAY, 10, 4)]
    # Agents from their buckets, and by scan (a language filter) for ASL only.
    agents = await reports.agents(WHOLE_DAY)
    assert (agents["ana"]["handled"], agents["bob"]["declined"], agents["cy"]["handled"]) == (4, 1, 2)
    asl = await reports.agents(Filters.period(DAY, DAY + 86400, language="ASL"))
    assert (asl["ana"]["handled"], asl["cy"]["handled"]) == (3, 1)  # t1, t2, t4; t3


async def test_pages_run_newest_first_with_a_cursor_and_filters(store: RecordStore) -> None:
    await store.write_new(tickets())
    reports = reports_of(store)
    seen: list[str] = []
    cursor = None
    while True:
        rows, cursor = await reports.page(WHOLE_DAY, 3, cursor)
        seen += [r.id for r in rows]
        if cursor is None:
            break
    assert seen == ["w1", "u1", "a2", "a1", "t6", "t5", "t4", "t3", "t2", "t1"]
    rows, cursor = await reports.page(
        Filters.period(DAY, DAY + 86400, outcome=OutcomeFilter.ABANDONED), 50, None
    )
    assert [r.id for r in rows] == ["a2", "a1"] and cursor is None
    rows, _ = await reports.page(Filters.period(DAY, DAY + 86400, agent="cy"), 50, None)
    assert [r.id for r in rows] == ["t6", "t3"]
    assert [r.id async for r in reports.rows(Filters.period(DAY, DAY + 86400, language="BSL"))] == [
        "t5",
        "t6",
        "a2",
    ]


async def test_updates_keep_the_buckets_equal_to_the_rows_and_a_repeat_changes_nothing(
    store: RecordStore, redis: Redis
) -> None:
    records = {r.id: r for r in tickets()}
    for record in records.values():
        await store.update(record.id, _copier(record))
    await assert_buckets_equal_rows(store)
    before = await redis.hgetall(store.bucket_key("d", DAY // 86400))
    for record in records.values():  # the same again: nothing changes
        await store.update(record.id, _copier(record))
    assert await redis.hgetall(store.bucket_key("d", DAY // 86400)) == before

    def rate(r: TicketRecord) -> None:
        r.sessions["s-t3-0"].rating = 1
        r.sessions["s-t3-0"].rated_at = H10 + 900

    await store.update("t3", rate)
    await assert_buckets_equal_rows(store)
    s = await reports_of(store).summary(WHOLE_DAY)
    assert s["rating"] == {"count": 5, "avg": 3.0}  # 5, 4, 2, 3 and now 1


async def test_concurrent_updates_of_one_record_all_land(store: RecordStore) -> None:
    await store.write_new(tickets())

    def add_session(i: int) -> object:
        def change(r: TicketRecord) -> None:
            part = r.sessions.setdefault(f"extra{i}", type(r.sessions["s-t1-0"])())
            part.agent, part.accepted_at, part.ended_at = "dan", H10 + 100, H10 + 160

        return change

    await asyncio.gather(*(store.update("t1", add_session(i)) for i in range(12)))  # type: ignore[arg-type]
    record = await store.get("t1")
    assert record is not None and len(record.sessions) == 13
    await assert_buckets_equal_rows(store)
    agents = await store.by_agent(WHOLE_DAY.start_hour, WHOLE_DAY.end_hour)
    assert agents["dan"]["handled"] == 12 and agents["dan"]["handle_sum"] == 720


async def test_every_record_key_expires_after_the_retention(store: RecordStore, redis: Redis) -> None:
    await store.write_new(tickets())
    await store.add_sample("s-t1-0", QualitySample(at=H10, side=Side.CUSTOMER, fps=25))
    assert 0 < await redis.ttl(store.record_key("t1")) <= RETENTION_S
    assert 0 < await redis.ttl(store.samples_key("s-t1-0")) <= RETENTION_S
    hour = H10 // 3600
    for key in (store.rows_key(hour), store.bucket_key("h", hour), store.bucket_key("ba", hour)):
        if await redis.exists(key):
            expire_at = await redis.expiretime(key)
            assert expire_at == (hour + 1) * 3600 + RETENTION_S
    assert await redis.expiretime(store.bucket_key("d", DAY // 86400)) == DAY + 86400 + RETENTION_S


async def test_samples_are_capped_per_call(store: RecordStore) -> None:
    from signlink.records.quality import MAX_SAMPLES_PER_SESSION

    sample = QualitySample(at=H10, side=Side.AGENT, fps=30, rtt_ms=50)
    async with store.redis.pipeline(transaction=False) as pipe:
        for _ in range(MAX_SAMPLES_PER_SESSION - 1):
            pipe.append(store.samples_key("s1"), b"")
        await pipe.execute()
    for _ in range(MAX_SAMPLES_PER_SESSION):
        assert await store.add_sample("s1", sample)
    assert not await store.add_sample("s1", sample)
    assert len((await store.samples(["s1"]))["s1"]) == MAX_SAMPLES_PER_SESSION


async def test_records_survive_a_redis_kill_and_restart(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "aof", appendonly=True).start()
    try:
        client = Redis.from_url(server.url)
        store = RecordStore(client, "rt", RETENTION_S)
        await store.write_new(tickets())
        await store.update("t1", lambda r: setattr(r.sessions["s-t1-0"], "rating", 1))
        await client.aclose()
        server.kill()  # kill -9: no shutdown, no final save
        server.start()
        client = Redis.from_url(server.url)
        store = RecordStore(client, "rt", RETENTION_S)
        record = await store.get("t1")
        assert record is not None and record.sessions["s-t1-0"].rating == 1
        s = await reports_of(store).summary(WHOLE_DAY)
        assert (s["tickets"], s["answered"], s["rating"]) == (10, 6, {"count": 4, "avg": 2.5})  # 1, 4, 2, 3
        await client.aclose()
    finally:
        server.stop()


def _copier(source: TicketRecord) -> Callable[[TicketRecord], None]:
    def copy_into(target: TicketRecord) -> None:
        for name in source.__dataclass_fields__:
            setattr(target, name, getattr(source, name))

    return copy_into


def test_the_byte_prefilter_never_drops_a_matching_row() -> None:
    filters = [
        Filters.period(DAY, DAY + 86400, **kw)
        for kw in (
            {"language": "ASL"},
            {"topic": "pc"},
            {"agent": "cy"},
            {"agent": "bob"},
            {"outcome": OutcomeFilter.ANSWERED},
            {"outcome": OutcomeFilter.TRANSFERRED},
            {"flagged": True},
            {"flagged": False},
            {"check": CheckFilter.CONTINUED},
            {"check": CheckFilter.NONE},
            {"language": "BSL", "agent": "ana", "check": CheckFilter.CONTINUED},
        )
    ]
    kept = dropped = 0
    for record in tickets():
        row = row_of(record)
        assert row is not None
        raw = row.dumps().encode()
        for f in filters:
            if f.matches(row):
                assert f.may_match(raw), (row.id, f)
                kept += 1
            elif not f.may_match(raw):
                dropped += 1
    assert kept and dropped  # it does skip rows


async def test_daily_points_fall_on_utc_midnights_even_for_a_period_that_does_not(store: RecordStore) -> None:
    day_hour = DAY // 3600
    assert steps(day_hour + 10, day_hour + 34, 24) == [
        (day_hour, day_hour + 10, day_hour + 24),
        (day_hour + 24, day_hour + 24, day_hour + 34),
    ]
    assert steps(day_hour + 10, day_hour + 12, 1) == [
        (day_hour + 10, day_hour + 10, day_hour + 11),
        (day_hour + 11, day_hour + 11, day_hour + 12),
    ]
    await store.write_new(tickets())
    reports = reports_of(store)
    # 11:00 on the day to 11:00 the next: t4-t6 and the four of 12:00 on the first point.
    for f in (
        Filters.period(H10 + 3600, H10 + 3600 + 86400),
        Filters.period(H10 + 3600, H10 + 3600 + 86400, flagged=False),
    ):
        ts = await reports.timeseries(f, 24)
        assert [(b["t"], b["tickets"]) for b in ts["buckets"]] == [(DAY, 7), (DAY + 86400, 0)]
