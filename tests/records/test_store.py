"""The record store and the reports on the real PostgreSQL: the SQL figures equal the sum of the rows'
contributions, periods, pages, filters, retention by dropped partitions, a kill -9 of the server."""

from __future__ import annotations

import asyncio
import copy
import time

import pytest

from signlink.db.database import Database
from signlink.queue.events import EventType, QueueEvent
from signlink.records import aggregates
from signlink.records.aggregates import Counters
from signlink.records.query import CheckFilter, Filters, OutcomeFilter, steps
from signlink.records.reports import Reports
from signlink.records.row import row_of
from signlink.records.store import Batch, RecordStore
from signlink.records.ticket import TicketRecord
from tests.records.dataset import DAY, H10, tickets
from tests.support.pg_proc import PostgresProcess

WHOLE_DAY = Filters.period(DAY, DAY + 86400)


@pytest.fixture
def store(db: Database) -> RecordStore:
    return RecordStore(db, 90)


def reports_of(store: RecordStore) -> Reports:
    return Reports(store, languages=("ASL", "BSL", "CSL"), topics=("phone", "pc"), thresholds=(120, 30))


def contributions(records: list[TicketRecord], f: Filters) -> Counters:
    """The figures' definition, in Python: the sum of each matching row's contribution."""
    out: Counters = {}
    for record in records:
        row = row_of(record)
        if row is not None and f.matches(row):
            aggregates.combine(out, aggregates.contribution(row).fields)
    return out


async def test_sql_gives_the_hand_computed_headline(store: RecordStore) -> None:
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


async def test_every_filter_gives_the_hand_computed_figures_and_the_rows_sum(store: RecordStore) -> None:
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
    # SQL and the Python definition agree on every counter, for every filter.
    for kw in (
        {},
        {"language": "ASL"},
        {"topic": "pc"},
        {"agent": "cy"},
        {"outcome": OutcomeFilter.ANSWERED},
        {"outcome": OutcomeFilter.TRANSFERRED},
        {"flagged": True},
        {"flagged": False},
        {"check": CheckFilter.CONTINUED},
        {"check": CheckFilter.NONE},
        {"language": "BSL", "agent": "ana", "check": CheckFilter.CONTINUED},
    ):
        f = Filters.period(DAY, DAY + 86400, **kw)
        got = await reports.counters(f)  # from the hourly roll-ups where the filters allow
        want = contributions(tickets(), f)
        assert {k: round(v, 6) for k, v in got.items()} == {k: round(v, 6) for k, v in want.items() if v}, kw
        scanned = await reports.scanned_counters(f)  # from the tickets themselves
        assert {k: round(v, 6) for k, v in scanned.items()} == {k: round(v, 6) for k, v in got.items()}, kw


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
        seen += [r["ticket_id"] for r in rows]
        if cursor is None:
            break
    assert seen == ["w1", "u1", "a2", "a1", "t6", "t5", "t4", "t3", "t2", "t1"]
    rows, cursor = await reports.page(
        Filters.period(DAY, DAY + 86400, outcome=OutcomeFilter.ABANDONED), 50, None
    )
    assert [r["ticket_id"] for r in rows] == ["a2", "a1"] and cursor is None
    rows, _ = await reports.page(Filters.period(DAY, DAY + 86400, agent="cy"), 50, None)
    assert [r["ticket_id"] for r in rows] == ["t6", "t3"]
    assert [r["ticket_id"] async for r in reports.rows(Filters.period(DAY, DAY + 86400, language="BSL"))] == [
        "t5",
        "t6",
        "a2",
    ]


async def test_rewriting_a_record_replaces_its_share_and_a_repeat_changes_nothing(store: RecordStore) -> None:
    records = tickets()
    await store.write_new(records)
    reports = reports_of(store)
    before = await reports.counters(WHOLE_DAY), await reports.agents(WHOLE_DAY)
    await store.write_new(tickets())  # the same again
    assert (await reports.counters(WHOLE_DAY), await reports.agents(WHOLE_DAY)) == before
    t3 = copy.deepcopy(next(r for r in records if r.id == "t3"))
    t3.sessions["s-t3-0"].rating = 1
    t3.sessions["s-t3-0"].rated_at = H10 + 900
    await store.write_new([t3])
    s = await reports.summary(WHOLE_DAY)
    assert s["rating"] == {"count": 5, "avg": 3.0}  # 5, 4, 2, 3 and now 1
    assert (await reports.agents(WHOLE_DAY))["cy"]["rating_n"] == 1
    records = [t3 if r.id == "t3" else r for r in records]
    want = {k: round(v, 6) for k, v in contributions(records, WHOLE_DAY).items() if v}
    for got in (await reports.counters(WHOLE_DAY), await reports.scanned_counters(WHOLE_DAY)):
        assert {k: round(v, 6) for k, v in got.items()} == want
    # The roll-ups' per-agent figures equal the tickets' (a language filter reads the tickets).
    everyone = await reports.agents(WHOLE_DAY)
    by_language = [
        await reports.agents(Filters.period(DAY, DAY + 86400, language=x)) for x in ("ASL", "BSL", "CSL")
    ]
    summed: dict[str, dict[str, float]] = {}
    for part in by_language:
        for agent, counters in part.items():
            aggregates.combine(summed.setdefault(agent, {}), counters)
    assert summed == everyone


async def test_concurrent_batches_about_one_ticket_all_land(store: RecordStore, db: Database) -> None:
    await store.write_new(tickets())

    def offer(i: int) -> QueueEvent:
        return QueueEvent(
            id=f"{int(H10 * 1000)}-{i}",
            type=EventType.OFFER_CREATED,
            at=H10 + 70,
            ticket_id="t1",
            agent_id="dan",
            offer_id=f"o-extra{i}",
        )

    stores = [RecordStore(db, 90) for _ in range(4)]
    await asyncio.gather(*(stores[i % 4].write_batch(Batch(queue=[offer(i)])) for i in range(12)))
    record = await store.get("t1")
    assert record is not None and len(record.offers) == 13
    agents = await reports_of(store).agents(WHOLE_DAY)
    assert agents["dan"]["offers"] == 12


async def test_retention_drops_whole_months_and_keeps_the_rest(store: RecordStore, db: Database) -> None:
    now = time.time()
    old = copy.deepcopy(tickets()[0])
    old.id, old.joined_at = "old", now - 200 * 86400
    recent = copy.deepcopy(tickets()[0])
    recent.id, recent.joined_at = "recent", now - 86400
    await store.write_new([old, recent, *tickets()])
    dropped = await store.drop_expired(now)
    assert dropped and all(name.split("_")[-2:] != ["2027", "01"] for name in dropped)
    assert await store.get("old") is None
    assert await store.get("recent") is not None
    assert (await reports_of(store).summary(WHOLE_DAY))["tickets"] == 10
    assert await store.drop_expired(now) == []  # nothing left to drop


async def test_records_survive_a_postgres_kill_and_restart(pg_server: PostgresProcess) -> None:
    db = Database(await pg_server.fresh_database())
    store = RecordStore(db, 90)
    try:
        await store.write_new(tickets())
        t1 = copy.deepcopy(next(r for r in tickets() if r.id == "t1"))
        t1.sessions["s-t1-0"].rating = 1
        await store.write_new([t1])
        pg_server.kill()  # kill -9 of the postmaster (fsync is off in tests, but the OS keeps the files)
        pg_server.restart()
        await db.close()
        db = Database(db.url)
        store = RecordStore(db, 90)
        record = await store.get("t1")
        assert record is not None and record.sessions["s-t1-0"].rating == 1
        s = await reports_of(store).summary(WHOLE_DAY)
        assert (s["tickets"], s["answered"], s["rating"]) == (10, 6, {"count": 4, "avg": 2.5})  # 1, 4, 2, 3
    finally:
        await db.close()


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
