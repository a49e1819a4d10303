"""QA records at the size of a busy service: 30 days, 200,000 calls, on a private redis-server.

    scripts/loopback-only .venv/bin/python -m benchmarks.qa [--sessions N] [--days D]

1. Generate: 200,000 answered calls over the last 30 days (plus 6.5% abandoned and 1% unserved
   requests), each the TicketRecord the recorder would hold at the end (check copy, offers, sessions,
   wrap-up, rating, quality summary) and its packed quality samples (2 sides x every 10 s), written
   through RecordStore.write, the recorder's own write path, pipelined 2,000 at a time.
   Beside it, the live path: QueueEvents through Recorder.record (one WATCH/MULTI per event).
2. Memory: INFO used_memory before and after, per stored call; MEMORY USAGE by kind of key.
3. The real app on a loopback port, a QA login, and timed requests: the 30-day headline
   (GET /api/qa/summary; target <= 1 s), with a language (buckets) and an agent (scan of the rows)
   filter, the series, the first page of the list, the /qa page if it renders, and the CSV export.
   Baselines from the same client in the same run: a Redis PING round trip, and the bare reads the
   answer needs (HGETALL of the 30 day buckets; HVALS of the 720 hourly row hashes for the CSV).
The JSON summary is the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from benchmarks.common import serving
from signlink.accounts import AccountStore, Passwords, Role, admin
from signlink.config import PROJECT_ROOT, Settings
from signlink.queue.events import EventType, QueueEvent
from signlink.queue.store import QueueStore
from signlink.records.quality import MAX_SAMPLES_PER_SESSION, QualitySample, QualitySummary, Side, pack
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
from signlink.records.verdicts import VerdictStore
from signlink.web import keys
from tests.support.redis_proc import RedisProcess

SESSIONS = 200_000
DAYS = 30
BATCH = 2_000
AGENTS = 120
LIVE_TICKETS = 500
TARGET_HEADLINE_S = 1.0
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
        "median_ms": round(statistics.median(values) * 1000, 2),
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
        # One packed sample repeated: the bytes a call's samples take, without packing millions.
        self.sample = pack(QualitySample(at=end, side=Side.CUSTOMER, rtt_ms=80, packet_loss=0.001, fps=29.5))

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

    def ticket(self, kind: str) -> tuple[TicketRecord, dict[str, bytes]]:
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
            return record, {}
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
            return record, {}
        samples: dict[str, bytes] = {}
        legs = 2 if rng.random() < 0.03 else 1
        at = joined + wait
        for leg in range(legs):
            agent = self._agent()
            self.offers += 1
            self.sessions += 1
            sid = f"s{self.sessions:012d}"
            record.offers[f"o{self.offers:012d}"] = OfferPart(agent, at - 3, OfferOutcome.ACCEPTED, at)
            talk = min(7200.0, rng.lognormvariate(math.log(360), 0.6))
            n = min(MAX_SAMPLES_PER_SESSION, 2 * int(talk / 10))
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
            samples[sid] = self.sample * n
            if leg + 1 < legs:
                record.transfers[f"{int(ended * 1000)}-0"] = TransferPart(
                    at=round(ended, 3),
                    to_language=lang,
                    to_topic="repair",
                    from_language=lang,
                    from_topic=topic,
                )
                at = ended + rng.uniform(10, 90)
        return record, samples


async def generate(store: RecordStore, gen: Generator, sessions: int) -> dict[str, Any]:
    started = time.perf_counter()
    tickets = calls = 0
    batch: list[TicketRecord] = []
    blobs: dict[str, bytes] = {}

    async def flush() -> None:
        async with store.redis.pipeline(transaction=False) as pipe:
            for sid, blob in blobs.items():
                pipe.set(store.samples_key(sid), blob, ex=store.retention_s)
            await pipe.execute()
        await store.write_new(batch)
        batch.clear()
        blobs.clear()

    while gen.sessions < sessions:
        roll = gen.rng.random()
        kind = "unserved" if roll < 0.01 else "abandoned" if roll < 0.075 else "answered"
        record, samples = gen.ticket(kind)
        batch.append(record)
        blobs.update(samples)
        tickets += 1
        calls += len(samples)
        if len(batch) >= BATCH:
            await flush()
    await flush()
    elapsed = time.perf_counter() - started
    return {
        "tickets": tickets,
        "sessions": gen.sessions,
        "seconds": round(elapsed, 1),
        "tickets_per_s": round(tickets / elapsed),
    }


async def live_path(store: RecordStore, settings: Settings, end: float) -> dict[str, Any]:
    """The recorder's per-event path (WATCH, GET, MULTI ... EXEC), on tickets of their own."""
    redis = store.redis
    recorder = Recorder(
        store,
        QueueStore(redis, settings),
        VerdictStore(redis, settings.redis_prefix, 3600),
        SessionRecords(redis, settings.redis_prefix, 3600),
        follow_max_s=3600,
    )
    events = []
    for i in range(LIVE_TICKETS):
        tid, sid, at = f"live{i:06d}", f"slive{i:06d}", end - 3600 + i
        events += [
            QueueEvent(
                f"{i}-1",
                EventType.TICKET_JOINED,
                at,
                ticket_id=tid,
                language="ASL",
                topic="phone",
                priority_class="normal",
            ),
            QueueEvent(
                f"{i}-2",
                EventType.OFFER_CREATED,
                at + 1,
                ticket_id=tid,
                offer_id=f"ol{i}",
                agent_id="agent001",
            ),
            QueueEvent(
                f"{i}-3",
                EventType.OFFER_ACCEPTED,
                at + 5,
                ticket_id=tid,
                offer_id=f"ol{i}",
                agent_id="agent001",
                session_id=sid,
                waited_s=5.0,
            ),
            QueueEvent(
                f"{i}-4",
                EventType.SESSION_ENDED,
                at + 300,
                ticket_id=tid,
                session_id=sid,
                agent_id="agent001",
                by="agent",
            ),
        ]
    ping = []
    for _ in range(200):
        t0 = time.perf_counter()
        await store.redis.ping()
        ping.append(time.perf_counter() - t0)
    times = []
    started = time.perf_counter()
    for event in events:
        t0 = time.perf_counter()
        await recorder.record(event)
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {
        "events": len(events),
        "events_per_s": round(len(events) / elapsed),
        "per_event": stats_ms(times),
        "baseline_ping": stats_ms(ping),
        "ratio_to_ping": round(statistics.median(times) / statistics.median(ping), 1),
    }


async def memory_by_kind(redis: Redis, prefix: str) -> dict[str, Any]:
    """MEMORY USAGE of every bucket key, and of a sample of the others scaled by their count."""
    kinds: dict[str, list[bytes]] = {}
    async for key in redis.scan_iter(match=f"{prefix}:rec:*", count=5000):
        kind = key.decode().split(":")[2]
        kinds.setdefault(kind, []).append(key)
    out: dict[str, Any] = {}
    rng = random.Random(1)
    for kind, found in sorted(kinds.items()):
        sample = found if len(found) <= 2000 else rng.sample(found, 2000)
        sizes = [int(await redis.memory_usage(k, samples=0) or 0) for k in sample]
        out[kind] = {"keys": len(found), "bytes": round(statistics.fmean(sizes) * len(found))}
    return out


# -- the app ----------------------------------------------------------------------------------------


async def timed(fetch: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fetch()
        times.append(time.perf_counter() - t0)
    return times, result


async def measure_app(settings: Settings, store: RecordStore, gen: Generator) -> dict[str, Any]:
    redis = store.redis
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

    def day(t: float) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(t))

    period = f"from={day(gen.start)}&to={day(gen.end - 1)}"
    out: dict[str, Any] = {"period": period}
    async with (
        serving(settings) as (base, app),
        aiohttp.ClientSession(
            base,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep the login cookie of 127.0.0.1
        ) as http,
    ):
        await app[keys.RECORDER].stop()  # nothing to record: keep its polling out of the timings
        login = await http.post(
            "/login", data={"username": "quinn", "password": PASSWORD}, allow_redirects=False
        )
        assert login.status == 303, await login.text()

        async def get_json(path: str) -> Any:
            async with http.get(path) as response:
                assert response.status == 200, (path, response.status, await response.text())
                return await response.json()

        async def get_text(path: str) -> tuple[int, int]:
            async with http.get(path) as response:
                return response.status, len(await response.read())

        # Baselines: a round trip, and the bare reads of the data the headline and the CSV need.
        ping, _ = await timed(redis.ping, 200)
        day_keys = [store.bucket_key("d", int(gen.start // 86400) + i) for i in range(gen.days + 1)]

        async def hgetall_days() -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for key in day_keys:
                    pipe.hgetall(key)
                await pipe.execute()

        buckets, _ = await timed(hgetall_days, 10)
        hours = list(range(int(gen.start // HOUR), int(gen.end // HOUR) + 1))

        async def hvals_hours() -> int:
            total = 0
            for i in range(0, len(hours), 24):
                async with redis.pipeline(transaction=False) as pipe:
                    for hour in hours[i : i + 24]:
                        pipe.hvals(store.rows_key(hour))
                    total += sum(len(v) for v in await pipe.execute())
            return total

        rows_read, rows_seen = await timed(hvals_hours, 2)
        out["baseline"] = {
            "redis_ping": stats_ms(ping),
            "hgetall_30_day_buckets": stats_ms(buckets),
            "hvals_all_rows": {**stats_ms(rows_read), "rows": rows_seen},
        }
        headline, summary = await timed(lambda: get_json(f"/api/qa/summary?{period}"), 20)
        out["headline_summary"] = {
            **stats_ms(headline),
            "target_ms": TARGET_HEADLINE_S * 1000,
            "ratio_to_bare_bucket_read": round(statistics.median(headline) / statistics.median(buckets), 1),
            "tickets": summary["tickets"],
            "answered": summary["answered"],
            "service_level": summary["service_level"],
            "answer_p90_s": summary["answer_time"]["p90_s"],
        }
        lang, _ = await timed(lambda: get_json(f"/api/qa/summary?{period}&language=ASL"), 10)
        out["summary_language_filter"] = stats_ms(lang)
        agent, s = await timed(lambda: get_json(f"/api/qa/summary?{period}&agent=agent007"), 3)
        out["summary_agent_filter_scan"] = {**stats_ms(agent), "tickets": s["tickets"]}
        series_day, _ = await timed(lambda: get_json(f"/api/qa/timeseries?{period}&bucket=day"), 10)
        out["timeseries_day"] = stats_ms(series_day)
        series_hour, _ = await timed(lambda: get_json(f"/api/qa/timeseries?{period}&bucket=hour"), 5)
        out["timeseries_hour_720_points"] = stats_ms(series_hour)
        agents, _ = await timed(lambda: get_json(f"/api/qa/agents?{period}"), 10)
        out["agents"] = stats_ms(agents)
        page, _ = await timed(lambda: get_json(f"/api/qa/sessions?{period}&limit=50"), 10)
        out["sessions_first_page"] = stats_ms(page)
        rare, _ = await timed(
            lambda: get_json(f"/api/qa/sessions?{period}&limit=50&flagged=1&language=HKSL"), 3
        )
        out["sessions_rare_filter_page"] = stats_ms(rare)
        status, _ = await get_text(f"/qa?{period}")
        if status == 200:
            qa_page, _ = await timed(lambda: get_text(f"/qa?{period}"), 10)
            out["qa_page"] = stats_ms(qa_page)
        else:
            out["qa_page"] = {"status": status, "note": "the /qa page did not render: not timed"}
        csv_times, (csv_status, csv_bytes) = await timed(lambda: get_text(f"/qa/sessions.csv?{period}"), 2)
        assert csv_status == 200
        out["csv_export"] = {
            **stats_ms(csv_times),
            "bytes": csv_bytes,
            "ratio_to_bare_row_read": round(statistics.median(csv_times) / statistics.median(rows_read), 1),
        }
    return out


async def main(sessions: int, days: int) -> dict[str, Any]:
    end = math.floor(time.time() / HOUR) * HOUR
    with tempfile.TemporaryDirectory(prefix="signlink-bench-qa-") as tmp:
        server = RedisProcess(Path(tmp)).start()
        redis = Redis.from_url(server.url)
        try:
            settings = Settings(redis_url=server.url, model_dir=PROJECT_ROOT / "models", redis_prefix="bench")
            store = RecordStore(redis, "bench", settings.record_retention_days * 86400)
            before = int((await redis.info("memory"))["used_memory"])
            gen = Generator(end, days)
            written = await generate(store, gen, sessions)
            after = int((await redis.info("memory"))["used_memory"])
            print(f"generated: {written}", flush=True)
            by_kind = await memory_by_kind(redis, "bench")
            memory = {
                "used_memory_delta_bytes": after - before,
                "bytes_per_ticket": round((after - before) / written["tickets"]),
                "bytes_per_session": round((after - before) / written["sessions"]),
                "by_kind": by_kind,
            }
            print(f"memory: {memory}", flush=True)
            app = await measure_app(settings, store, gen)
            print(f"app: {json.dumps(app)}", flush=True)
            live = await live_path(store, settings, end)
            print(f"live write path: {live}", flush=True)
        finally:
            await redis.aclose()
            server.stop()
    return {"benchmark": "qa", "generated": written, "memory": memory, "app": app, "live_write_path": live}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--days", type=int, default=DAYS)
    args = parser.parse_args()
    result = asyncio.run(main(args.sessions, args.days))
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    cli()
