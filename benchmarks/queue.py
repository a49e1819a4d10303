"""The queue under load: routing latency and throughput with 10,000 waiting tickets and 1,000 agents.

    python -m benchmarks.queue            (a private redis-server, or SIGNLINK_REDIS_URL if set)

Runs twice in one go: on one Redis, then on a private 3-node Redis Cluster (every key in one hash-tag
slot, the client on the slot's primary); the last line compares the two (cluster / single p50).

Set-up: 4 sign languages x 6 topics. 750 agents serve CSL/ASL/BSL (1-2 languages, 2-4 topics each),
logged in and away; 10,000 tickets wait in those 18 queues (5% emergency, 15% callback). 250 agents
serve HKSL only and sit idle, so an HKSL ticket is matched the moment it joins.

1. agent ready -> offer: an away agent becomes ready and is offered the best of its queues (timed);
   then goes away again, which puts the ticket back at its place (untimed). The backlog never moves.
2. ticket joins -> offer: an HKSL ticket joins and is offered to the longest-idle HKSL agent (timed);
   then leaves, which frees the agent at their place (untimed).
3. Throughput: bursts of concurrent "ready" matches from one process (64 at a time).
Beside each: the raw PING round trip from the same client, interleaved with the operation, and the
server-side cost of the scripts from Redis' own command statistics. The JSON summary is the last line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from signlink.config import Settings
from signlink.queue.models import JoinRequest
from signlink.queue.store import QueueStore
from signlink.redisio import connect
from tests.support.redis_proc import ClusterProcesses, RedisProcess

WAITING = 10_000
AGENTS_BACKLOG = 750
AGENTS_IDLE = 250
SAMPLES = 2_000
BURSTS = 5
CONCURRENCY = 64
TARGET_P99_MS = 5.0
TARGET_RATIO = 5.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.asynccontextmanager
async def redis_for_bench(cluster: bool = False) -> AsyncIterator[tuple[Redis, str]]:
    url = "" if cluster else Settings.from_env().redis_url
    with tempfile.TemporaryDirectory() as tmp:
        server: RedisProcess | ClusterProcesses | None = None
        if not url:
            server = ClusterProcesses(Path(tmp)).start() if cluster else RedisProcess(Path(tmp)).start()
            url = server.url
        prefix = f"bench-queue-{int(time.time())}"
        redis = connect(url, max_connections=CONCURRENCY * 2, slot_key=f"{{{prefix}}}")
        try:
            yield redis, prefix
        finally:
            match = f"{{{prefix}}}:*" if cluster else f"{prefix}:*"
            keys = [k async for k in redis.scan_iter(match=match, count=1000)]
            for i in range(0, len(keys), 500):
                await redis.delete(*keys[i : i + 500])
            await redis.aclose()
            if server:
                server.stop()


async def timed(op: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = await op()
    return (time.perf_counter() - t0) * 1000, result


async def script_cost_us(redis: Redis) -> float:
    stats = await redis.info("commandstats")
    entry = stats.get("cmdstat_evalsha", {})
    return float(entry.get("usec_per_call", 0.0))


async def populate(store: QueueStore, rng: random.Random) -> tuple[list[str], list[str]]:
    langs = ("CSL", "ASL", "BSL")
    topics = store.settings.topics
    backlog_agents, idle_agents = [], []
    for i in range(AGENTS_BACKLOG):
        agent = f"agent-{i:04d}"
        await store.agent_login(
            agent, rng.sample(langs, rng.randint(1, 2)), rng.sample(topics, rng.randint(2, 4))
        )
        backlog_agents.append(agent)
    for i in range(AGENTS_IDLE):
        agent = f"hksl-{i:04d}"
        await store.agent_login(agent, ["HKSL"], rng.sample(topics, rng.randint(2, 4)), ready=True)
        idle_agents.append(agent)
    classes = ["emergency"] * 5 + ["callback"] * 15 + ["normal"] * 80

    async def join(n: int) -> None:
        request = JoinRequest(
            f"bench-backlog-{n:08d}", rng.choice(langs), rng.choice(topics), rng.choice(classes)
        )
        await store.join(request)

    for start in range(0, WAITING, CONCURRENCY):
        await asyncio.gather(*(join(n) for n in range(start, min(start + CONCURRENCY, WAITING))))
    return backlog_agents, idle_agents


async def ready_latency(store: QueueStore, agents: list[str], rng: random.Random) -> dict[str, list[float]]:
    match, ping = [], []
    for _ in range(SAMPLES):
        agent = rng.choice(agents)
        ping.append((await timed(store.redis.ping))[0])
        ms, update = await timed(lambda a=agent: store.agent_ready(a))  # type: ignore[misc]
        assert update.offer is not None, "a ready agent with a backlog must get an offer"
        match.append(ms)
        await store.agent_away(agent)  # the ticket goes back to its place
    return {"match": match, "ping": ping}


async def join_latency(store: QueueStore, rng: random.Random) -> dict[str, list[float]]:
    match, ping = [], []
    topics = store.settings.topics
    for n in range(SAMPLES):
        ping.append((await timed(store.redis.ping))[0])
        request = JoinRequest(f"bench-join-{n:08d}", "HKSL", rng.choice(topics), "normal")
        ms, placed = await timed(lambda r=request: store.join(r))  # type: ignore[misc]
        assert placed.offer is not None, "an idle HKSL agent must get the ticket"
        match.append(ms)
        await store.leave(placed.ticket.id)  # the agent is free again, at their place
    return {"match": match, "ping": ping}


async def throughput(store: QueueStore, agents: list[str]) -> float:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def ready(agent: str) -> None:
        async with sem:
            await store.agent_ready(agent)

    rates = []
    burst = agents[: CONCURRENCY * 8]
    for _ in range(BURSTS):
        t0 = time.perf_counter()
        await asyncio.gather(*(ready(a) for a in burst))
        rates.append(len(burst) / (time.perf_counter() - t0))
        for a in burst:
            await store.agent_away(a)
    return statistics.median(rates)


def summarise(name: str, sample: dict[str, list[float]]) -> dict[str, float]:
    out = {
        "p50_ms": statistics.median(sample["match"]),
        "p99_ms": pct(sample["match"], 0.99),
        "ping_p50_ms": statistics.median(sample["ping"]),
        "ping_p99_ms": pct(sample["ping"], 0.99),
    }
    out["ratio_p50_to_ping"] = out["p50_ms"] / out["ping_p50_ms"]
    print(
        f"{name:>24}: p50 {out['p50_ms']:.3f} ms  p99 {out['p99_ms']:.3f} ms   "
        f"(PING p50 {out['ping_p50_ms']:.3f} ms, p99 {out['ping_p99_ms']:.3f} ms; "
        f"median ratio {out['ratio_p50_to_ping']:.2f})"
    )
    return out


async def main() -> None:
    single = await run(cluster=False)
    cluster = await run(cluster=True)
    ratios = {
        name: cluster[name]["p50_ms"] / single[name]["p50_ms"] for name in ("ready_to_offer", "join_to_offer")
    }
    print(f"cluster / single p50: ready {ratios['ready_to_offer']:.2f}, join {ratios['join_to_offer']:.2f}")
    print(
        json.dumps(
            {"benchmark": "queue", "single": single, "cluster": cluster, "cluster_over_single": ratios}
        )
    )


async def run(*, cluster: bool) -> dict[str, Any]:
    rng = random.Random(2026)
    print(f"--- {'3-node Redis Cluster' if cluster else 'one Redis'}")
    async with redis_for_bench(cluster) as (redis, prefix):
        store = QueueStore(redis, Settings(redis_prefix=prefix))
        t0 = time.perf_counter()
        backlog_agents, _idle = await populate(store, rng)
        snap = await store.snapshot()
        print(
            f"set-up: {snap.waiting} waiting, {sum(snap.agents.values())} agents, "
            f"{len(snap.lines)} queues ({time.perf_counter() - t0:.1f} s)"
        )
        await redis.config_resetstat()
        ready = summarise("agent ready -> offer", await ready_latency(store, backlog_agents, rng))
        ready_us = await script_cost_us(redis)
        await redis.config_resetstat()
        joins = summarise("ticket joins -> offer", await join_latency(store, rng))
        join_us = await script_cost_us(redis)
        rate = await throughput(store, backlog_agents)
        after = await store.snapshot()
        print(f"server-side script time per call: ready+away {ready_us:.0f} us, join+leave {join_us:.0f} us")
        print(f"throughput: {rate:,.0f} matches/s from one process ({CONCURRENCY} concurrent)")
        print(f"backlog after: {after.waiting} waiting (unchanged: {after.waiting == snap.waiting})")
        worst_p99 = max(ready["p99_ms"], joins["p99_ms"])
        worst_ratio = max(ready["ratio_p50_to_ping"], joins["ratio_p50_to_ping"])
        print(
            f"targets: p99 <= {TARGET_P99_MS} ms: {'met' if worst_p99 <= TARGET_P99_MS else 'MISSED'} "
            f"({worst_p99:.2f}); median / PING <= {TARGET_RATIO}: "
            f"{'met' if worst_ratio <= TARGET_RATIO else 'MISSED'} ({worst_ratio:.2f})"
        )
        summary = {
            "benchmark": "queue",
            "waiting": snap.waiting,
            "agents": sum(snap.agents.values()),
            "ready_to_offer": ready,
            "join_to_offer": joins,
            "script_us_per_call": {"ready_and_away": ready_us, "join_and_leave": join_us},
            "matches_per_s": rate,
            "targets": {"p99_ms": TARGET_P99_MS, "ratio": TARGET_RATIO},
            "met": worst_p99 <= TARGET_P99_MS and worst_ratio <= TARGET_RATIO,
        }
        print(json.dumps(summary))
        return summary


if __name__ == "__main__":
    asyncio.run(main())
