"""Relay latency customer -> agent across two signlink processes, beside raw Redis pub/sub.

Run inside the loopback-only namespace:

    scripts/loopback-only .venv/bin/python -m benchmarks.relay [--levels 1,100,1000]

Two real `python -m signlink serve` processes (A and B) share one private redis-server. Every customer
is connected to A and every agent to B, so each relayed message crosses processes through Redis: the
customer's socket -> A (parse, PUBLISH) -> Redis -> B (pub/sub reader, hub) -> the agent's socket.
Sessions are made the real way (agents say hello with a staff session cookie and go available,
customers POST /api/tickets and say hello, agents accept their offers); the agent accounts and their
login sessions are created directly in the account store (no password hashing for 1,000 agents).
This load generator is a third process holding both ends, so one clock times each message.

Per level k (concurrent sessions, the first k of the pool), each of the k customers sends `signal`
messages (an ICE candidate carrying its send time) at a steady rate with a random phase; latency =
arrival at the agent's client - send. Beside it, in the same run and at the same message rate and
size: the raw Redis round trip publisher -> Redis -> subscriber with redis-py in this process.
Target: p99 <= 5 ms at 1,000 sessions. Prints figures, then a JSON summary as the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import BlockingConnectionPool, Redis

from benchmarks.common import raise_fd_limit, require_loopback_only
from signlink.accounts import Account, AccountStore, Role
from signlink.config import PROJECT_ROOT
from tests.support.redis_proc import RedisProcess, free_port

PREFIX = "signlink"
TARGET_P99_MS = 5.0
# Messages a second per session at each level: enough samples at 1, a realistic trickle at 1,000.
RATE_PER_SESSION = {1: 20.0, 100: 2.0, 1000: 1.0}
MEASURE_S = 15.0  # per level and path, in ROUNDS alternating windows
ROUNDS = 3
WARMUP_S = 1.0
SETUP_CONCURRENCY = 50
PING_EVERY_S = 10.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(latencies_ms: list[float]) -> dict[str, float | int]:
    if not latencies_ms:
        return {"n": 0}
    return {
        "n": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "max_ms": round(max(latencies_ms), 3),
    }


# The servers


@contextlib.contextmanager
def servers(redis_url: str, logs: Path) -> Iterator[tuple[list[str], dict[str, int]]]:
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("A", "B"):
            port = free_port()
            env = {
                **os.environ,
                "SIGNLINK_PORT": str(port),
                "SIGNLINK_REDIS_URL": redis_url,
                "SIGNLINK_LOG_LEVEL": "WARNING",
                "SIGNLINK_LIMIT_TICKETS_PER_ADDRESS": "0",  # thousands of customers from one address
                "SIGNLINK_LIMIT_TICKETS_OVERALL": "0",
                "SIGNLINK_MODEL_DIR": str(PROJECT_ROOT / "models"),
            }
            log = (logs / f"serve-{name}.log").open("wb")
            procs.append(
                subprocess.Popen([sys.executable, "-m", "signlink", "serve"], env=env, stdout=log, stderr=log)
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls, {"server_a": procs[0].pid, "server_b": procs[1].pid, "load_generator": os.getpid()}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_up(http: aiohttp.ClientSession, url: str) -> None:
    async with asyncio.timeout(90):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)


# The sessions


@dataclass
class Pair:
    index: int
    customer: aiohttp.ClientWebSocketResponse | None = None
    agent: aiohttp.ClientWebSocketResponse | None = None
    session_id: str | None = None


@dataclass
class Bench:
    http: aiohttp.ClientSession
    url_a: str
    url_b: str
    pids: dict[str, int]
    pairs: list[Pair] = field(default_factory=list)
    by_ticket: dict[str, Pair] = field(default_factory=dict)
    agent_of: dict[str, tuple[aiohttp.ClientWebSocketResponse, str]] = field(default_factory=dict)
    latencies: list[float] | None = None  # collecting while set
    slow_at: list[float] = field(default_factory=list)  # arrival times of messages over the target
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: int = 0

    async def add_agent(self, store: AccountStore, i: int) -> aiohttp.ClientWebSocketResponse:
        username = f"bench{i:05d}"
        account = Account(username, f"Agent {i}", Role.AGENT, ("ASL",), ("phone",), time.time())
        await store.create(account, "!not-a-password-hash")
        session = await store.create_session(username, 6 * 3600)
        ws = await self.http.ws_connect(
            f"{self.url_b}/ws", headers={"Cookie": f"signlink_session={session.id}"}, max_msg_size=0
        )
        await ws.send_str(json.dumps({"type": "hello", "role": "agent", "pc": "new"}))
        await _until(ws, "welcome")
        await ws.send_str(json.dumps({"type": "status", "status": "available"}))
        self.readers.append(asyncio.create_task(self._agent_reader(ws)))
        return ws

    async def _agent_reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            kind = data["type"]
            if kind == "signal":
                if self.latencies is not None:
                    sent_ns = int(data["data"]["candidate"]["candidate"].rsplit(" ", 1)[1])
                    latency = (time.perf_counter_ns() - sent_ns) / 1e6
                    self.latencies.append(latency)
                    if latency > TARGET_P99_MS:
                        self.slow_at.append(time.perf_counter())
            elif kind == "offer":
                await ws.send_str(json.dumps({"type": "accept", "offer_id": data["offer_id"]}))
            elif kind == "session":
                self.agent_of[data["ticket"]["id"]] = (ws, data["session_id"])
                if len(self.agent_of) >= self.wanted:
                    self.accepted.set()

    async def add_customer(self, pair: Pair) -> None:
        async with self.http.post(
            f"{self.url_a}/api/tickets", json={"language": "ASL", "topic": "phone"}
        ) as r:
            body = await r.json()
            assert r.status == 201, body
        self.by_ticket[body["ticket_id"]] = pair
        ws = await self.http.ws_connect(f"{self.url_a}/ws", max_msg_size=0)
        await ws.send_str(
            json.dumps({"type": "hello", "role": "customer", "token": body["token"], "pc": "new"})
        )
        pair.customer = ws
        self.readers.append(asyncio.create_task(_drain(ws)))

    async def pinger(self) -> None:
        """Every socket pings every 10 s, as the pages do (the queue's heartbeats)."""
        while True:
            sockets = [ws for p in self.pairs for ws in (p.customer, p.agent) if ws is not None]
            step = PING_EVERY_S / max(1, len(sockets))
            for ws in sockets:
                if not ws.closed:
                    with contextlib.suppress(ConnectionError):
                        await ws.send_str('{"type":"ping"}')
                await asyncio.sleep(step)


async def _until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    async for msg in ws:
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] == kind:
            return data
    raise ConnectionError(f"socket closed before {kind}")


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _msg in ws:
        pass


async def bounded(jobs: list[Any], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def build_sessions(bench: Bench, redis: Redis, count: int) -> float:
    started = time.perf_counter()
    store = AccountStore(redis, PREFIX)
    agents = await bounded([bench.add_agent(store, i) for i in range(count)], SETUP_CONCURRENCY)
    bench.pairs = [Pair(i) for i in range(count)]
    bench.wanted = count
    await bounded([bench.add_customer(p) for p in bench.pairs], SETUP_CONCURRENCY)
    async with asyncio.timeout(120):
        await bench.accepted.wait()
    for ticket_id, pair in bench.by_ticket.items():
        pair.agent, pair.session_id = bench.agent_of[ticket_id]
    assert len(agents) == count and all(p.agent is not None for p in bench.pairs)
    return time.perf_counter() - started


def redis_proc_pid(proc: RedisProcess) -> int:
    assert proc.process is not None
    return proc.process.pid


# Measuring


def candidate(seq: int) -> dict[str, Any]:
    """A `signal` carrying an ICE candidate whose last field is the send time (ns, this process's clock)."""
    line = f"candidate:{seq} 1 udp 2113937151 127.0.0.1 {9 + seq % 50000} typ host {time.perf_counter_ns()}"
    return {"type": "signal", "data": {"candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}}}


def report(k: int, relay: dict[str, Any], raw: dict[str, Any]) -> None:
    ratio = relay["p99_ms"] / raw["p99_ms"] if relay.get("p99_ms") and raw.get("p99_ms") else None
    print(
        f"{k:>5} sessions, {relay['msgs_per_s']:>6} msg/s: relay p50 {relay.get('p50_ms')} ms, "
        f"p99 {relay.get('p99_ms')} ms (n={relay.get('n')}) | raw pub/sub p50 "
        f"{raw.get('p50_ms')} ms, p99 {raw.get('p99_ms')} ms | p99 relay/raw {ratio and round(ratio, 1)}\n"
        f"       over {TARGET_P99_MS} ms: {relay.get('over_target')} messages in "
        f"{relay.get('over_target_bursts')} stall(s); CPU % {relay.get('cpu_percent')}; "
        f"load generator lag max {relay.get('load_generator_lag_max_ms')} ms",
        flush=True,
    )


@dataclass
class Window:
    """What one measuring window saw."""

    latencies: list[float]
    sent: int = 0
    slow_at: list[float] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    lag_max_ms: float = 0.0


async def paced(k: int, rate: float, seconds: float, send: Callable[[int, int], Awaitable[None]]) -> int:
    """k senders, each `rate` messages a second with a random phase, for `seconds`; messages sent."""
    stop = time.perf_counter() + seconds
    sent = 0

    async def sender(i: int) -> None:
        nonlocal sent
        interval = 1.0 / rate
        await asyncio.sleep(random.random() * interval)
        seq, next_at = 0, time.perf_counter()
        while time.perf_counter() < stop:
            seq += 1
            await send(i, seq)
            sent += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    await asyncio.gather(*(sender(i) for i in range(k)))
    return sent


async def relay_window(bench: Bench, k: int, seconds: float) -> Window:
    """Customers on A send, agents on B receive; the first WARMUP_S of the window is not counted."""
    rate = RATE_PER_SESSION.get(k, 1.0)
    window = Window([])

    async def send(i: int, seq: int) -> None:
        customer = bench.pairs[i].customer
        assert customer is not None
        await customer.send_str(json.dumps(candidate(seq)))

    async def measure() -> None:
        await asyncio.sleep(WARMUP_S)
        bench.latencies, bench.slow_at = window.latencies, window.slow_at
        before = {name: cpu_s(pid) for name, pid in bench.pids.items()}
        lag = LoopLag()
        lag.start()
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        window.seconds = time.perf_counter() - started
        window.cpu_s = {name: cpu_s(pid) - before[name] for name, pid in bench.pids.items()}
        await lag.stop()
        window.lag_max_ms = lag.max_ms

    measuring = asyncio.create_task(measure())
    window.sent = await paced(k, rate, WARMUP_S + seconds, send)
    await measuring
    await asyncio.sleep(0.5)  # the last messages land
    bench.latencies = None
    return window


async def raw_window(redis_url: str, k: int, seconds: float) -> Window:
    """The same rate and payload over bare Redis pub/sub: k channels, one subscriber connection."""
    rate = RATE_PER_SESSION.get(k, 1.0)
    # The publisher's pool waits for a free connection, as the app's does (signlink/web/app.py).
    publisher = Redis.from_pool(BlockingConnectionPool.from_url(redis_url, max_connections=200))
    subscriber = Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    channels = [f"bench:raw:{i}" for i in range(k)]
    await pubsub.subscribe(*channels)
    window = Window([])
    collecting = False

    async def read() -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None and collecting:
                body = json.loads(message["data"][1:])
                sent_ns = int(body["data"]["candidate"]["candidate"].rsplit(" ", 1)[1])
                window.latencies.append((time.perf_counter_ns() - sent_ns) / 1e6)

    async def send(i: int, seq: int) -> None:
        await publisher.publish(channels[i], b"R" + json.dumps(candidate(seq)).encode())

    async def measure() -> None:
        nonlocal collecting
        await asyncio.sleep(WARMUP_S)
        collecting = True

    reader = asyncio.create_task(read())
    measuring = asyncio.create_task(measure())
    window.sent = await paced(k, rate, WARMUP_S + seconds, send)
    await measuring
    await asyncio.sleep(0.5)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await publisher.aclose()
    await subscriber.aclose()
    return window


async def level(bench: Bench, redis_url: str, k: int) -> dict[str, Any]:
    """Relay and raw pub/sub in alternating windows (ROUNDS of each), so both see the same machine."""
    relay: list[Window] = []
    raw: list[Window] = []
    for _ in range(ROUNDS):
        relay.append(await relay_window(bench, k, MEASURE_S / ROUNDS))
        raw.append(await raw_window(redis_url, k, MEASURE_S / ROUNDS))
    latencies = [x for w in relay for x in w.latencies]
    seconds = sum(w.seconds for w in relay)
    cpu = {name: round(100 * sum(w.cpu_s[name] for w in relay) / seconds) for name in bench.pids}
    slow = [t for w in relay for t in w.slow_at]
    rate = RATE_PER_SESSION.get(k, 1.0)
    return {
        "sessions": k,
        "relay": {
            "msgs_per_s": round(rate * k, 1),
            **summary(latencies),
            "over_target": len(slow),
            "over_target_bursts": bursts(slow),
            "cpu_percent": cpu,
            "load_generator_lag_max_ms": round(max(w.lag_max_ms for w in relay), 1),
        },
        "raw_pubsub": {"msgs_per_s": round(rate * k, 1), **summary([x for w in raw for x in w.latencies])},
    }


def bursts(times: list[float], gap_s: float = 0.1) -> int:
    """How many separate stalls the slow messages came in (arrivals more than `gap_s` apart)."""
    ordered = sorted(times)
    return sum(1 for i, t in enumerate(ordered) if i == 0 or t - ordered[i - 1] > gap_s)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LoopLag:
    """The load generator's own event-loop delay (a 10 ms ticker): its stalls are not the servers'."""

    def __init__(self) -> None:
        self.max_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.max_ms = max(self.max_ms, (time.perf_counter() - before - 0.01) * 1000)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@contextlib.asynccontextmanager
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        yield http


async def run(levels: list[int]) -> dict[str, Any]:
    require_loopback_only()
    fds = raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="signlink-relay-") as tmp:
        redis_proc = RedisProcess(Path(tmp) / "redis").start()
        try:
            with servers(redis_proc.url, Path(tmp)) as ((url_a, url_b), pids):
                redis = Redis.from_url(redis_proc.url)
                async with client_session() as http:
                    await wait_up(http, url_a)
                    await wait_up(http, url_b)
                    bench = Bench(http, url_a, url_b, {**pids, "redis": redis_proc_pid(redis_proc)})
                    setup_s = await build_sessions(bench, redis, max(levels))
                    gc.collect()
                    gc.freeze()  # as `signlink serve` does: no long full collections here either
                    print(
                        f"{max(levels)} sessions set up in {setup_s:.1f} s (customers on A, agents on B)",
                        flush=True,
                    )
                    pinger = asyncio.create_task(bench.pinger())
                    results: list[dict[str, Any]] = []
                    for k in levels:
                        result = await level(bench, redis_proc.url, k)
                        results.append(result)
                        report(k, result["relay"], result["raw_pubsub"])
                    pinger.cancel()
                    for task in bench.readers:
                        task.cancel()
                    for pair in bench.pairs:
                        for ws in (pair.customer, pair.agent):
                            if ws is not None:
                                await ws.close()
                await redis.aclose()
        finally:
            redis_proc.stop()
    at_top: dict[str, Any] = results[-1]["relay"]
    return {
        "benchmark": "relay",
        "levels": results,
        "target_p99_ms": TARGET_P99_MS,
        "top_level_p99_ms": at_top.get("p99_ms"),
        "meets_target": bool(at_top.get("p99_ms") is not None and at_top["p99_ms"] <= TARGET_P99_MS),
        "setup_s": round(setup_s, 1),
        "fd_limit": fds,
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--levels", default="1,100,1000", help="concurrent sessions per level, comma-separated"
    )
    args = parser.parse_args()
    levels = sorted(int(x) for x in args.levels.split(","))
    result = asyncio.run(run(levels))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
