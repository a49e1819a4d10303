"""Idle WebSocket connections one signlink process holds, and the memory each costs.

Run inside the loopback-only namespace:

    scripts/loopback-only .venv/bin/python -m benchmarks.ws_idle [--connections 10000]

One real `python -m signlink serve` process on a private redis-server. A separate client process
opens the connections the way waiting customers do: POST /api/tickets, open /ws, hello with the token,
then stay, pinging every 10 s (the queue heartbeat) while the server pings at the WebSocket level
every 20 s. The server's RSS is read from /proc before and after each step (2,500, 5,000, ...);
memory per connection = RSS delta / connections. Then the connections are held for HOLD_S, counted
again, and the server's ping round trip is timed on an extra socket while it holds them all.

Baseline in the same run: a bare aiohttp WebSocket server (a handler that only reads) holding the same
number of idle connections from the same client: the floor the framework itself costs.
Target: >= 10,000 connections per process. Prints figures, then a JSON summary as the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from benchmarks.common import raise_fd_limit, require_loopback_only
from signlink.accounts import Account, AccountStore, Role
from signlink.config import PROJECT_ROOT, Settings
from signlink.queue.store import QueueStore
from tests.support.redis_proc import RedisProcess, free_port

TARGET = 10_000
HOLD_S = 30.0
PING_EVERY_S = 10.0
OPEN_CONCURRENCY = 100
PREFIX = "signlink"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def open_sockets(pid: int) -> int:
    return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.readlink(fd).startswith("socket:"))


# The client process: opens and holds connections, driven over stdin/stdout (one JSON line each way).


async def client_main(base: str, signlink_mode: bool) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    readers: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one() -> None:
            if signlink_mode:
                async with http.post(f"{base}/api/tickets", json={"language": "ASL", "topic": "phone"}) as r:
                    body = await r.json()
                    if r.status != 201:
                        raise RuntimeError(f"join refused: {body}")
                ws = await http.ws_connect(f"{base}/ws", autoping=True)
                await ws.send_str(json.dumps({"type": "hello", "role": "customer", "token": body["token"]}))
                msg = await ws.receive(timeout=60)
                if msg.type is not aiohttp.WSMsgType.TEXT or json.loads(msg.data)["type"] != "welcome":
                    raise RuntimeError(f"no welcome: {msg.type} {msg.data!r}")
            else:
                ws = await http.ws_connect(f"{base}/ws", autoping=True)
            sockets.append(ws)
            readers.append(asyncio.create_task(_drain(ws)))

        async def pinger() -> None:
            while signlink_mode:
                live = list(sockets)
                step = PING_EVERY_S / max(1, len(live))
                for ws in live:
                    if not ws.closed:
                        with contextlib.suppress(ConnectionError):
                            await ws.send_str('{"type":"ping"}')
                    await asyncio.sleep(step)
                if not live:
                    await asyncio.sleep(1)

        ping_task = asyncio.create_task(pinger())
        while line := await reader.readline():
            command = json.loads(line)
            if command["op"] == "open":
                gate = asyncio.Semaphore(OPEN_CONCURRENCY)
                started = time.perf_counter()
                jobs = [gated(gate, one) for _ in range(command["n"])]
                results = await asyncio.gather(*jobs, return_exceptions=True)
                failures = [repr(r) for r in results if isinstance(r, BaseException)]
                reply: dict[str, Any] = {"open": sum(1 for ws in sockets if not ws.closed)}
                reply |= {
                    "failed": len(failures),
                    "first_failure": failures[:1],
                    "s": time.perf_counter() - started,
                }
            elif command["op"] == "count":
                reply = {"open": sum(1 for ws in sockets if not ws.closed)}
            else:
                break
            print(json.dumps(reply), flush=True)
        ping_task.cancel()
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()


async def gated(gate: asyncio.Semaphore, job: Callable[[], Awaitable[None]]) -> None:
    async with gate:
        await job()


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _msg in ws:
        pass


class Client:
    """The client process, from the benchmark's side."""

    def __init__(self, base: str, signlink_mode: bool) -> None:
        mode = "signlink" if signlink_mode else "bare"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.ws_idle", "--client", base, "--mode", mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the client process died")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write('{"op": "quit"}\n')
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# The bare baseline server


def bare_main(port: int) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20.0)
        await ws.prepare(request)
        async for _msg in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# Orchestration


@contextlib.contextmanager
def server(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(90):
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the server exited")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)


async def ping_rtt(url: str, token: str | None, samples: int = 50) -> dict[str, float]:
    """Round trips of `ping` on one more socket while the server holds the rest."""
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/ws") as ws:
        await ws.send_str(json.dumps({"type": "hello", "role": "customer", "token": token}))
        await ws.receive(timeout=30)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            await ws.send_str('{"type":"ping"}')
            while json.loads((await ws.receive(timeout=30)).data)["type"] != "pong":
                pass
            times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(times[-1], 2)}


async def ramp(client: Client, pid: int, steps: list[int]) -> tuple[list[dict[str, Any]], float]:
    await asyncio.sleep(2.0)
    before = rss_mib(pid)
    rows = []
    opened = 0
    for step in steps:
        reply = await asyncio.to_thread(client.ask, op="open", n=step - opened)
        opened = step
        await asyncio.sleep(3.0)  # let the server settle (position pushes after the joins)
        rss = rss_mib(pid)
        held = reply["open"]
        rows.append(
            {
                "target": step,
                "open": held,
                "failed": reply["failed"],
                "first_failure": reply["first_failure"],
                "open_s": round(reply["s"], 1),
                "rss_mib": round(rss, 1),
                "kib_per_connection": round((rss - before) * 1024 / max(1, held), 1),
            }
        )
        print(
            f"  {held:>6} open ({reply['failed']} failed) in {reply['s']:.1f} s: RSS {rss:.0f} MiB, "
            f"{rows[-1]['kib_per_connection']} KiB per connection",
            flush=True,
        )
        if reply["failed"]:
            break
    return rows, before


async def run(connections: int) -> dict[str, Any]:
    require_loopback_only()
    fds = raise_fd_limit()
    steps = sorted({*(connections * k // 4 for k in (1, 2, 3)), connections})
    with tempfile.TemporaryDirectory(prefix="signlink-idle-") as tmp_name:
        tmp = Path(tmp_name)
        redis_proc = RedisProcess(tmp / "redis").start()
        try:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "SIGNLINK_PORT": str(port),
                "SIGNLINK_REDIS_URL": redis_proc.url,
                "SIGNLINK_LOG_LEVEL": "WARNING",
                "SIGNLINK_LIMIT_TICKETS_PER_ADDRESS": "0",  # thousands of customers from one address
                "SIGNLINK_LIMIT_TICKETS_OVERALL": "0",
                "SIGNLINK_MODEL_DIR": str(PROJECT_ROOT / "models"),
            }
            # One agent online (away), so ASL/phone tickets are taken and wait.
            redis = Redis.from_url(redis_proc.url)
            store = AccountStore(redis, PREFIX)
            await store.create(Account("idle-agent", "Idle Agent", Role.AGENT, ("ASL",), ("phone",)), "!")
            queue = QueueStore(redis, Settings(redis_url=redis_proc.url))
            await queue.agent_login("idle-agent", ("ASL",), ("phone",), name="Idle Agent")

            async def agent_console() -> None:  # the agent's console pings, keeping them online
                while True:
                    await asyncio.sleep(PING_EVERY_S)
                    await queue.agent_heartbeat("idle-agent")

            console = asyncio.create_task(agent_console())

            print(f"signlink serve, {connections} idle customer connections:", flush=True)
            with server([sys.executable, "-m", "signlink", "serve"], env, tmp / "serve.log") as proc:
                await wait_up(url, proc)
                client = Client(url, signlink_mode=True)
                try:
                    rows, base_rss = await ramp(client, proc.pid, steps)
                    held = rows[-1]["open"]
                    await asyncio.sleep(HOLD_S)
                    after_hold = (await asyncio.to_thread(client.ask, op="count"))["open"]
                    server_sockets = open_sockets(proc.pid)
                    async with (
                        aiohttp.ClientSession() as http,
                        http.post(f"{url}/api/tickets", json={"language": "ASL", "topic": "phone"}) as r,
                    ):
                        probe_token = (await r.json())["token"]
                    rtt = await ping_rtt(url, probe_token)
                    rss_end = rss_mib(proc.pid)
                finally:
                    client.close()
            print(
                f"  after {HOLD_S:.0f} s: {after_hold} still open; ping round trip on one more: {rtt}",
                flush=True,
            )

            print(f"bare aiohttp WebSocket server, {connections} idle connections:", flush=True)
            bare_port = free_port()
            bare_url = f"http://127.0.0.1:{bare_port}"
            bare_cmd = [sys.executable, "-m", "benchmarks.ws_idle", "--bare-server", str(bare_port)]
            with server(bare_cmd, dict(os.environ), tmp / "bare.log") as bare:
                await wait_up(bare_url, bare)
                bare_client = Client(bare_url, signlink_mode=False)
                try:
                    bare_rows, _ = await ramp(bare_client, bare.pid, [connections])
                finally:
                    bare_client.close()
            console.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await console
            await redis.aclose()
        finally:
            redis_proc.stop()
    per_conn = rows[-1]["kib_per_connection"]
    bare_per_conn = bare_rows[-1]["kib_per_connection"]
    return {
        "benchmark": "ws_idle",
        "target_connections": TARGET,
        "held": held,
        "held_after_s": HOLD_S,
        "still_open_after_hold": after_hold,
        "server_sockets": server_sockets,
        "meets_target": after_hold >= TARGET,
        "server_rss_mib_start": round(base_rss, 1),
        "server_rss_mib_end": round(rss_end, 1),
        "kib_per_connection": per_conn,
        "bare_aiohttp_kib_per_connection": bare_per_conn,
        "ratio_to_bare": round(per_conn / bare_per_conn, 1) if bare_per_conn else None,
        "ping_rtt_while_holding": rtt,
        "steps": rows,
        "fd_limit": fds,
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--connections", type=int, default=TARGET)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="signlink", help=argparse.SUPPRESS)
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_main(args.bare_server)
    elif args.client:
        raise_fd_limit()
        asyncio.run(client_main(args.client, args.mode == "signlink"))
    else:
        print(json.dumps(asyncio.run(run(args.connections))))


if __name__ == "__main__":
    main()
