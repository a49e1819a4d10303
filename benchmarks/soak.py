"""Soak: the cross-process WebSocket hammer (tests/support/ws_hammer.py) for minutes, with faults.

Two `signlink serve` processes on a private Redis (AOF, fsync always). During the run Redis is killed
(kill -9) twice and restarted on its AOF after `--redis-down-s`, and one process is killed once and
started again; the clients reconnect as the pages do. Prints operations done, invariant violations
(seen by the clients, then over Redis: audit, offer replay, every ticket issued is stored), customers
lost, tickets made whose 201 a fault swallowed (orphans), p99 of join-to-offer for tickets whose wait
overlapped a fault and for the others, memory growth per process, and a baseline measured in the same
run: the raw Redis round trip (PING). JSON last line.

    scripts/loopback-only .venv/bin/python -m benchmarks.soak --minutes 10

join-to-offer includes the queue wait (customers outnumber agents): compare during with outside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from benchmarks.common import raise_fd_limit, require_loopback_only
from signlink.queue.audit import check, replay_offers
from signlink.queue.store import QueueStore
from tests.support.e2e import SignlinkProcess
from tests.support.redis_proc import RedisProcess
from tests.support.staff import PASSWORD, add_account
from tests.support.ws_hammer import LANGS, TOPICS, World, server_settings

SETTLE_AFTER_FAULT_S = 10.0  # a wait overlapping [fault, recovered + this] counts as "during"


def rss_kib(proc: SignlinkProcess) -> int:
    assert proc.process
    for line in Path(f"/proc/{proc.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3)


async def redis_baseline(url: str, count: int = 2000) -> dict[str, float]:
    client = Redis.from_url(url)
    samples = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            await client.ping()
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        await client.aclose()
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 3), "p99_ms": round(samples[int(0.99 * count)], 3)}


async def healthy(bases: list[str], within: float = 60.0) -> None:
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + within
        for base in bases:
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"{base}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)


class Faults:
    """The fault schedule: Redis killed twice, one process killed once; each window is recorded."""

    def __init__(self, redis: RedisProcess, procs: list[SignlinkProcess], down_s: float) -> None:
        self.redis, self.procs, self.down_s = redis, procs, down_s
        self.windows: list[tuple[str, float, float]] = []  # (what, start, recovered)
        self.restarted_at: dict[int, int] = {}  # process index -> its RSS after the restart

    async def run(self, seconds: float) -> None:
        plan = [(0.25, self.kill_redis), (0.45, self.kill_process), (0.65, self.kill_redis)]
        start = time.monotonic()
        for share, action in plan:
            await asyncio.sleep(max(0.0, start + share * seconds - time.monotonic()))
            await action()

    async def kill_redis(self) -> None:
        began = time.monotonic()
        self.redis.kill()
        await asyncio.sleep(self.down_s)
        await asyncio.to_thread(self.redis.start)  # same port, same AOF
        await healthy([p.url for p in self.procs])
        self.windows.append(("redis kill -9", began, time.monotonic()))

    async def kill_process(self) -> None:
        began = time.monotonic()
        self.procs[1].kill()
        await asyncio.sleep(2.0)
        await asyncio.to_thread(self.procs[1].start)
        self.windows.append(("process kill -9", began, time.monotonic()))
        self.restarted_at[1] = rss_kib(self.procs[1])

    def overlaps(self, start: float, end: float) -> bool:
        return any(start <= r + SETTLE_AFTER_FAULT_S and end >= b for _, b, r in self.windows)


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="signlink-soak-") as tmp:
        folder = Path(tmp)
        redis_proc = RedisProcess(folder / "redis", appendonly=True).start()
        settings = server_settings(redis_proc.url, grace_s=args.grace_s)
        redis = Redis.from_url(redis_proc.url)
        procs = [SignlinkProcess(settings, folder / f"signlink-{i}.log") for i in range(2)]
        world: World | None = None
        try:
            baseline = await redis_baseline(redis_proc.url)
            usernames = [f"agent{i:02d}" for i in range(args.agents)]
            for name in usernames:
                await add_account(settings, redis, name, languages=LANGS, topics=TOPICS)
            world = World([p.start() for p in procs], args.seed, connect_patience_s=120.0)
            await world.login_agents(usernames, PASSWORD)
            world.add_customers(args.customers)
            rss_start = [rss_kib(p) for p in procs]
            faults = Faults(redis_proc, procs, args.redis_down_s)
            seconds = args.minutes * 60
            began = time.monotonic()
            await asyncio.gather(world.run(seconds), faults.run(seconds))
            ran_s = time.monotonic() - began
            outcome = await world.settle()
            rss_end = [rss_kib(p) for p in procs]
            await redis.aclose()  # its connections died with the Redis it knew
            redis = Redis.from_url(redis_proc.url)
            store = QueueStore(redis, settings)
            over_redis = check(await store.dump())
            over_redis += replay_offers(await store.read_events(count=10_000_000))
            stored = {
                str(t, "utf-8") if isinstance(t, bytes) else t
                for t in await redis.hkeys(f"{settings.redis_prefix}:queue:tickets")
            }
            issued = set(world.tally.joined_at)
            if issued - stored:
                over_redis.append(f"tickets issued but not stored {sorted(issued - stored)[:5]}")
            # A join whose 201 was lost to a fault (the process or Redis died after the write): the
            # customer was refused and joined again; the orphan has no socket and times out of the queue.
            orphans = sorted(stored - issued)
        finally:
            if world is not None:
                await world.close()
            for p in procs:
                p.stop()
            await redis.aclose()
            redis_proc.stop()
    tally = world.tally
    during: list[float] = []
    outside: list[float] = []
    for ticket, offered in tally.offered_at.items():
        joined = tally.joined_at.get(ticket)
        if joined is not None:
            (during if faults.overlaps(joined, offered) else outside).append(offered - joined)
    base = {i: faults.restarted_at.get(i, rss_start[i]) for i in range(len(procs))}
    return {
        "seed": args.seed,
        "minutes": round(ran_s / 60, 2),
        "customers": args.customers,
        "agents": args.agents,
        "operations": sum(tally.ops.values()),
        "operations_by_kind": dict(tally.ops),
        "refused": dict(tally.refused),
        "tickets": len(tally.joined_at),
        "calls": len(tally.session_of),
        "invariant_violations": len(tally.violations) + len(over_redis),
        "violations": (tally.violations + over_redis)[:20],
        "customers_lost": len(tally.lost),
        "orphan_tickets": orphans,
        "lost": tally.lost[:20],
        "faults": [
            {"what": w, "at_s": round(b - began, 1), "recovered_s": round(r - b, 2)}
            for w, b, r in faults.windows
        ],
        "join_to_offer_p99_s": {"during_faults": p99(during), "outside_faults": p99(outside)},
        "join_to_offer_n": {"during_faults": len(during), "outside_faults": len(outside)},
        "rss_growth_kib": [rss_end[i] - base[i] for i in range(len(procs))],
        "rss_end_kib": rss_end,
        "final": outcome,
        "baseline_redis_ping": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--redis-down-s", type=float, default=7.0, help="how long Redis stays dead each time")
    parser.add_argument(
        "--grace-s", type=float, default=30.0, help="SIGNLINK_HEARTBEAT_GRACE_S of the processes"
    )
    args = parser.parse_args()
    require_loopback_only()
    raise_fd_limit()
    result = asyncio.run(soak(args))
    for key in (
        "operations",
        "invariant_violations",
        "customers_lost",
        "join_to_offer_p99_s",
        "rss_growth_kib",
    ):
        print(f"{key}: {result[key]}")
    print(f"faults: {result['faults']}")
    print(f"baseline Redis PING: {result['baseline_redis_ping']}")
    for text in result["violations"] + result["lost"]:
        print(f"  ! {text}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
