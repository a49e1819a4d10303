"""QA records at the size of a busy service, in PostgreSQL: a year of sessions, the QA reads, the CSV.

    scripts/loopback-only .venv/bin/python -m benchmarks.qa [--sessions N] [--days D] [--live L]

On a private postgres (fsync on, as in production) and a private redis-server, in one run:
1. Load: N sessions over D days (plus 6.5% abandoned, 1% unserved requests), each the TicketRecord the
   recorder would hold at the end, written through RecordStore.write_new (the recorder's batch write
   path: the same row, counters and per-agent shares, 500 records a transaction). Beside it, the
   recorder's whole path: L real calls through the queue and the call events (joined, offered,
   accepted, started, 2 quality samples, ended, wrap-up, rating), then drained by a Recorder: events/s.
2. Floors on the same server, same run (pgbench-style): raw one-row INSERTs in transactions of 500
   into a plain table (rows/s), a one-row SELECT by primary key and SELECT 1 (round trips), and
   COPY of a plain table to the client (rows/s).
3. The real app on a loopback port, a QA login, timed GETs: the headline summary over the last 30
   days and over the whole period, each filter (agent, language, outcome, flag) at p50/p95 (goal
   <= 100 ms each at 1,000,000 sessions), the series, agents, the first page, and a CSV export of
   about 200,000 rows (goal >= 100,000 rows/s).
4. Disk: pg_total_relation_size of the records' tables per session. Redis: used_memory per waiting
   ticket (the records no longer live there).
The JSON summary is the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
from redis.asyncio import Redis

from benchmarks.common import serving
from signlink.accounts import AccountStore, Passwords, Role, admin
from signlink.config import PROJECT_ROOT, Settings
from signlink.db import partitions
from signlink.db.database import Database
from signlink.db.postgres_server import PostgresServer
from signlink.queue.call_events import CallEventLog
from signlink.queue.models import EndedBy, JoinRequest
from signlink.queue.store import QueueStore
from signlink.records.quality import QualitySummary
from signlink.records.query import HOUR
from signlink.records.recorder import Recorder
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
from signlink.records.ticket import (
    CheckCopy,
    OfferOutcome,
    OfferPart,
    SessionPart,
    TicketRecord,
    TransferPart,
)
from signlink.web import keys
from tests.support.pg_proc import PostgresProcess
from tests.support.redis_proc import RedisProcess, free_port

SESSIONS = 1_000_000
DAYS = 365
LIVE = 1_000
WAITING = 2_000
BATCH = 5_000
AGENTS = 120
TARGET_MS = 100.0
TARGET_CSV_ROWS_S = 100_000
CSV_ROWS = 200_000
LANGS = (("CSL", 0.4), ("ASL", 0.3), ("BSL", 0.2), ("HKSL", 0.1))
TOPICS = ("phone", "tablet", "wearable", "pc", "smart_home", "repair")
CRITERIA = ("resolution", "frame_rate", "hands", "framing", "face", "light", "sharpness", "frozen")
HOUR_WEIGHT = [0.2] * 7 + [1, 2, 3, 3, 3, 2.5, 3, 3, 3, 2.5, 2, 1.5, 1, 0.6, 0.4, 0.3, 0.2]
PASSWORD = "benchmark password 1"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stats_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(pct(values, 0.95) * 1000, 2),
        "n": len(values),
    }


# -- the data ---------------------------------------------------------------------------------------


class Generator:
    def __init__(self, end: float, days: int, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.end = end
        self.start = end - days * 86400
        self.days = days
        self.n = 0
        self.offers = 0
        self.sessions = 0

    def _when(self) -> float:
        day = self.rng.randrange(self.days)
        hour = self.rng.choices(range(24), HOUR_WEIGHT)[0]
        return self.start + day * 86400 + hour * 3600 + self.rng.random() * 3599

    def _check(self) -> CheckCopy | None:
        if self.rng.random() < 0.15:
            return None
        passed = self.rng.random() < 0.88
        failing = set() if passed else set(self.rng.sample(CRITERIA, self.rng.choice((1, 1, 2))))
        return CheckCopy(
            verdict_id=f"v{self.rng.getrandbits(96):024x}",
            passed=passed,
            outcome="passed" if passed else "failed",
            created_at=None,
            duration_s=round(self.rng.uniform(3, 14), 3),
            continued_at=None if passed else "2025-01-01T00:00:00.000Z",
            criteria={
                c: {"status": "fail" if c in failing else "pass", "value": round(self.rng.random(), 3)}
                for c in CRITERIA
            },
            metrics={
                "window_s": 1.0,
                "width": 640,
                "height": 480,
                "fps": round(self.rng.uniform(18, 30), 2),
                "frames": 30,
                "analysed_frames": 10,
                "hand_share": round(self.rng.random(), 3),
                "two_hands_share": round(self.rng.random(), 3),
                "cut_off_share": 0.0,
                "brightness": round(self.rng.uniform(60, 180), 1),
            },
        )

    def _agent(self) -> str:
        return f"agent{self.rng.randrange(AGENTS):03d}"

    def ticket(self, kind: str) -> TicketRecord:
        rng = self.rng
        self.n += 1
        joined = round(self._when(), 3)
        lang = rng.choices([x for x, _ in LANGS], [w for _, w in LANGS])[0]
        topic = rng.choice(TOPICS)
        cls = rng.choices(("normal", "callback", "emergency"), (85, 13, 2))[0]
        if kind == "unserved":
            record = TicketRecord(f"u{int(joined * 1000)}-{self.n}", unserved=True, joined_at=joined)
            record.language, record.topic, record.priority_class = lang, topic, cls
            record.served = ["CSL", "ASL"]
            return record
        record = TicketRecord(
            f"t{self.n:012d}", joined_at=joined, language=lang, topic=topic, priority_class=cls
        )
        record.device_model = rng.choice(("Pixel 9", "iPhone 15", "Galaxy S24", ""))
        record.check = self._check()
        wait = min(1800.0, rng.lognormvariate(math.log(35), 1.0))
        at = joined
        if rng.random() < 0.12:  # a first offer declined or missed
            self.offers += 1
            outcome = rng.choice((OfferOutcome.DECLINED, OfferOutcome.TIMED_OUT))
            record.offers[f"o{self.offers:012d}"] = OfferPart(self._agent(), at + 1, outcome, at + 8)
        if kind == "abandoned":
            record.abandoned_at = round(joined + wait, 3)
            record.abandon_reason = rng.choice(("left", "timeout"))
            record.abandon_waited_s = round(wait, 3)
            return record
        legs = 2 if rng.random() < 0.03 else 1
        at = joined + wait
        for leg in range(legs):
            agent = self._agent()
            self.offers += 1
            self.sessions += 1
            sid = f"s{self.sessions:012d}"
            record.offers[f"o{self.offers:012d}"] = OfferPart(agent, at - 3, OfferOutcome.ACCEPTED, at)
            talk = min(7200.0, rng.lognormvariate(math.log(360), 0.6))
            n = min(1440, 2 * int(talk / 10))
            flagged = rng.random() < 0.05
            quality = QualitySummary(
                samples=n,
                fps_sum=round(n * rng.uniform(14 if flagged else 24, 30), 3),
                fps_n=n,
                rtt_sum=round(n * rng.uniform(40, 200), 3),
                rtt_n=n,
                loss_sum=round(n * rng.uniform(0, 0.01), 6),
                loss_n=n,
            )
            if flagged:
                quality = QualitySummary.from_dict({**quality.to_dict(), "reasons": ["low_fps"]})
            ended = at + talk
            wrapped = ended + rng.uniform(20, 120) if rng.random() < 0.95 else None
            rated = rng.random() < 0.45
            record.sessions[sid] = SessionPart(
                agent=agent,
                accepted_at=round(at, 3),
                waited_s=round(at - joined, 3),
                ended_at=round(ended, 3),
                ended_by="transfer" if leg + 1 < legs else rng.choice(("agent", "customer")),
                wrap_outcome=rng.choice(("resolved", "follow_up", "repair_booked")) if wrapped else None,
                wrapped_at=None if wrapped is None else round(wrapped, 3),
                rating=rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 33, 50))[0] if rated else None,
                rated_at=round(ended + 30, 3) if rated else None,
                quality=quality,
            )
            if leg + 1 < legs:
                record.transfers[f"{int(ended * 1000)}-0"] = TransferPart(
                    at=round(ended, 3),
                    to_language=lang,
                    to_topic="repair",
                    from_language=lang,
                    from_topic=topic,
                )
                at = ended + rng.uniform(10, 90)
        return record


async def load(store: RecordStore, gen: Generator, sessions: int) -> dict[str, Any]:
    started = time.perf_counter()
    tickets = 0
    batch: list[TicketRecord] = []
    last = started
    while gen.sessions < sessions:
        roll = gen.rng.random()
        kind = "unserved" if roll < 0.01 else "abandoned" if roll < 0.075 else "answered"
        batch.append(gen.ticket(kind))
        tickets += 1
        if len(batch) >= BATCH:
            await store.write_new(batch)
            batch.clear()
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                print(
                    f"  loaded {gen.sessions} sessions ({tickets / (last - started):.0f} tickets/s)",
                    flush=True,
                )
    await store.write_new(batch)
    elapsed = time.perf_counter() - started
    return {
        "tickets": tickets,
        "sessions": gen.sessions,
        "seconds": round(elapsed, 1),
        "tickets_per_s": round(tickets / elapsed),
    }


async def recorder_path(settings: Settings, redis: Redis, store: RecordStore, calls: int) -> dict[str, Any]:
    """Real calls through the queue and the call events, then one Recorder drains them."""
    queue = QueueStore(redis, settings)
    sessions = SessionRecords(redis, settings.redis_prefix, 86400)
    await queue.agent_login("live-agent", ["ASL"], ["phone"], ready=True)
    for i in range(calls):
        placed = await queue.join(JoinRequest(f"customer-token-bench-{i:08d}", "ASL", "phone", "normal"))
        assert placed.offer
        session = await queue.accept("live-agent", placed.offer.id)
        await sessions.start(
            session_id=session.id,
            ticket_id=placed.ticket.id,
            agent_id="live-agent",
            language="ASL",
            topic="phone",
        )
        for side in ("agent", "customer"):
            await sessions.events.quality_sample(session.id, time.time(), side, {"fps": 28.0, "rtt_ms": 60.0})
        await queue.end_session(session.id, by=EndedBy.CUSTOMER)
        await sessions.wrap_up(session.id, agent_id="live-agent", outcome="resolved", notes="ok")
        await sessions.rate(session.id, score=5, comment="")
        await queue.agent_ready("live-agent")
    log = CallEventLog(redis, settings.redis_prefix, maxlen=settings.queue_events_maxlen)
    recorder = Recorder(store, queue, log, consumer="bench", batch=settings.recorder_batch)
    await recorder.ensure_group()
    behind = (await recorder.lag()).behind
    t0 = time.perf_counter()
    handled = 0
    while n := await recorder.step():
        handled += n
    elapsed = time.perf_counter() - t0
    return {
        "calls": calls,
        "events": handled,
        "events_waiting_before": behind,
        "seconds": round(elapsed, 2),
        "events_per_s": round(handled / elapsed),
        "calls_per_s": round(calls / elapsed),
    }


async def floors(url: str, rows: int) -> dict[str, Any]:
    """pgbench-style floors on the same server: raw INSERT, SELECT by key, SELECT 1, COPY out."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE bench_raw (id bigint PRIMARY KEY, at double precision, lang text, agent text, "
            "v real)"
        )
        values = [(i, 1.7e9 + i, "ASL", f"agent{i % AGENTS:03d}", 1.5) for i in range(rows)]
        t0 = time.perf_counter()
        for i in range(0, rows, 500):
            async with conn.transaction():
                await conn.executemany(
                    "INSERT INTO bench_raw VALUES ($1, $2, $3, $4, $5)", values[i : i + 500]
                )
        insert_s = time.perf_counter() - t0
        rng = random.Random(1)
        by_key = []
        for _ in range(500):
            k = rng.randrange(rows)
            t = time.perf_counter()
            await conn.fetchrow("SELECT * FROM bench_raw WHERE id = $1", k)
            by_key.append(time.perf_counter() - t)
        one = []
        for _ in range(500):
            t = time.perf_counter()
            await conn.fetchval("SELECT 1")
            one.append(time.perf_counter() - t)
        size = 0

        async def sink(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)

        t0 = time.perf_counter()
        await conn.copy_from_query("SELECT * FROM bench_raw", output=sink, format="csv")
        copy_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await conn.fetchval("SELECT count(*) FROM bench_raw WHERE agent = 'agent007'")
        scan_s = time.perf_counter() - t0
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    return {
        "raw_insert_rows_per_s": round(rows / insert_s),
        "select_by_key": stats_ms(by_key),
        "select_1": stats_ms(one),
        "copy_out_rows_per_s": round(rows / copy_s),
        "seq_scan_count_ms": round(scan_s * 1000, 1),
        "rows": rows,
    }


async def disk(url: str, sessions: int) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        total = 0
        by_table = {}
        for table in (*partitions.TABLES, "dead_events"):
            size = await conn.fetchval(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE c.relkind = 'r' AND (c.relname = $1 OR p.relname = $1)",
                table,
            )
            by_table[table] = int(size)
            total += int(size)
    finally:
        await conn.close()
    return {
        "bytes_total": total,
        "bytes_per_session": round(total / max(1, sessions)),
        "by_table_mb": {k: round(v / 1e6, 1) for k, v in by_table.items()},
        "five_years_at_10000_calls_a_day_gb": round(total / max(1, sessions) * 10_000 * 365 * 5 / 1e9, 1),
    }


async def redis_per_waiting(settings: Settings, redis: Redis, n: int) -> dict[str, Any]:
    queue = QueueStore(redis, settings)
    await queue.agent_login("away-agent", ["HKSL"], ["repair"])  # online, away: tickets wait
    before = int((await redis.info("memory"))["used_memory"])
    for i in range(n):
        await queue.join(JoinRequest(f"customer-token-wait-{i:08d}", "HKSL", "repair", "normal"))
    after = int((await redis.info("memory"))["used_memory"])
    return {"waiting": n, "bytes_per_waiting_ticket": round((after - before) / n)}


async def timed(fetch: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fetch()
        times.append(time.perf_counter() - t0)
    return times, result


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


async def measure_app(settings: Settings, redis: Redis, gen: Generator, runs: int) -> dict[str, Any]:
    await admin.add_account(
        AccountStore(redis, settings.redis_prefix),
        Passwords(),
        settings,
        username="quinn",
        display_name="Quinn",
        role=Role.QA,
        languages=(),
        topics=(),
        password=PASSWORD,
    )
    month = f"from={_day(gen.end - 30 * 86400)}&to={_day(gen.end - 1)}"
    year = f"from={_day(gen.start)}&to={_day(gen.end - 1)}"
    csv_days = max(1, min(gen.days, math.ceil(CSV_ROWS / max(1, gen.n / gen.days))))
    csv_period = f"from={_day(gen.end - csv_days * 86400)}&to={_day(gen.end - 1)}"
    out: dict[str, Any] = {"month": month, "whole_period": year}
    async with (
        serving(settings) as (base, app),
        aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        await app[keys.RECORDER].stop()  # nothing to record: keep it out of the timings
        login = await http.post(
            "/login", data={"username": "quinn", "password": PASSWORD}, allow_redirects=False
        )
        assert login.status == 303, await login.text()

        async def get_json(path: str) -> Any:
            async with http.get(path) as response:
                assert response.status == 200, (path, response.status, await response.text())
                return await response.json()

        async def get_bytes(path: str) -> bytes:
            async with http.get(path) as response:
                assert response.status == 200, (path, response.status)
                return await response.read()

        queries = {
            "headline_30_days": f"/api/qa/summary?{month}",
            "headline_whole_period": f"/api/qa/summary?{year}",
            "filter_agent_30_days": f"/api/qa/summary?{month}&agent=agent007",
            "filter_language_30_days": f"/api/qa/summary?{month}&language=ASL",
            "filter_outcome_30_days": f"/api/qa/summary?{month}&outcome=abandoned",
            "filter_flagged_30_days": f"/api/qa/summary?{month}&flagged=1",
            "filter_agent_whole_period": f"/api/qa/summary?{year}&agent=agent007",
            "filter_flagged_whole_period": f"/api/qa/summary?{year}&flagged=1",
            "series_day_30_days": f"/api/qa/timeseries?{month}&bucket=day",
            "series_hour_30_days": f"/api/qa/timeseries?{month}&bucket=hour",
            "agents_30_days": f"/api/qa/agents?{month}",
            "sessions_first_page_30_days": f"/api/qa/sessions?{month}&limit=50",
            "sessions_rare_filter_page": f"/api/qa/sessions?{year}&limit=50&flagged=1&language=HKSL",
            "sessions_agent_page": f"/api/qa/sessions?{year}&limit=50&agent=agent007",
        }
        for name, path in queries.items():
            await get_json(path)  # warm
            times, body = await timed(lambda path=path: get_json(path), runs)  # type: ignore[misc]
            out[name] = {**stats_ms(times), "goal_ms": TARGET_MS}
            if isinstance(body, dict) and "tickets" in body:
                out[name]["tickets"] = body["tickets"]
        csv_times, data = await timed(lambda: get_bytes(f"/qa/sessions.csv?{csv_period}"), 3)
        rows = data.count(b"\n") - 1
        out["csv_export"] = {
            **stats_ms(csv_times),
            "rows": rows,
            "bytes": len(data),
            "rows_per_s": round(rows / statistics.median(csv_times)),
            "goal_rows_per_s": TARGET_CSV_ROWS_S,
        }
    return out


async def main(sessions: int, days: int, live: int, runs: int) -> dict[str, Any]:
    end = math.floor(time.time() / HOUR) * HOUR
    pg = PostgresProcess()
    pg.server = PostgresServer(pg.root / "data", port=free_port(), tcp=True, fsync=True)
    await pg.start_async()
    redis_server = RedisProcess(pg.root / "redis").start()
    redis = Redis.from_url(redis_server.url)
    url = await pg.fresh_database()
    db = Database(url, max_size=4)
    try:
        settings = Settings(
            redis_url=redis_server.url,
            database_url=url,
            model_dir=PROJECT_ROOT / "models",
            redis_prefix="bench",
            record_retention_days=days + 40,
            sign_languages=tuple(x for x, _ in LANGS),
            topics=TOPICS,
        )
        store = RecordStore(db, settings.record_retention_days)
        gen = Generator(end, days)
        floor = await floors(url, 100_000)
        print(f"floors: {floor}", flush=True)
        loaded = await load(store, gen, sessions)
        print(f"loaded: {loaded}", flush=True)
        conn = await asyncpg.connect(url)
        await conn.execute("VACUUM ANALYZE")
        await conn.close()
        space = await disk(url, loaded["sessions"])
        print(f"disk: {space}", flush=True)
        app = await measure_app(settings, redis, gen, runs)
        print(f"app: {json.dumps(app)}", flush=True)
        path = await recorder_path(settings, redis, store, live)
        print(f"recorder path: {path}", flush=True)
        waiting = await redis_per_waiting(settings, redis, WAITING)
        print(f"redis: {waiting}", flush=True)
    finally:
        await db.close()
        await redis.aclose()
        redis_server.stop()
        pg.remove()
    return {
        "benchmark": "qa",
        "loaded": loaded,
        "floors": floor,
        "disk": space,
        "app": app,
        "recorder_path": path,
        "redis": waiting,
        "ratios": {
            "load_vs_raw_insert": round(loaded["tickets_per_s"] / floor["raw_insert_rows_per_s"], 3),
            "recorder_events_vs_raw_insert": round(path["events_per_s"] / floor["raw_insert_rows_per_s"], 3),
            "csv_vs_raw_copy": round(app["csv_export"]["rows_per_s"] / floor["copy_out_rows_per_s"], 3),
        },
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--live", type=int, default=LIVE, help="calls through the recorder's whole path")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    args = parser.parse_args()
    result = asyncio.run(main(args.sessions, args.days, args.live, args.runs))
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    cli()
