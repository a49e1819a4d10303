"""Checks behind a real haproxy, round robin with no affinity, in front of two `signlink serve` children.

Every request is balanced on its own (`option http-server-close`, a client that closes its
connections), so a check's POST, events and DELETE land on either process; the relay over Redis
must make that invisible. Then the process holding a check is killed: the client hears so quickly.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from signlink.config import Settings
from tests.check.whip_client import ClipTrack, EncodedClip, events, publish
from tests.support.e2e import SignlinkProcess
from tests.support.redis_proc import free_port

CHECKS = 100
AT_ONCE = 4
# The bound for "the client hears that the process holding its check died".
LOST_WITHIN_S = 2.0

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")


@dataclass
class Balanced:
    url: str
    children: list[SignlinkProcess]


def haproxy_config(port: int, backends: list[int]) -> str:
    servers = "\n".join(
        f"  server s{i} 127.0.0.1:{p} check inter 300ms fall 1 rise 1" for i, p in enumerate(backends)
    )
    return f"""global
  maxconn 2000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch 1
  option http-server-close
frontend checks
  bind 127.0.0.1:{port}
  default_backend signlink
backend signlink
  balance roundrobin
  option httpchk GET /healthz
{servers}
"""


@pytest.fixture
def balanced(settings: Settings, tmp_path: Path) -> Iterator[Balanced]:
    child = settings.replace(
        check_ice_addresses=("127.0.0.1",),  # the children gather on loopback, as in-process tests do
        check_max_per_address=AT_ONCE * 2,  # every check comes from this one test client
        check_timeout_s=20.0,
    )
    children = [SignlinkProcess(child, tmp_path / f"signlink-{i}.log") for i in range(2)]
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for process in children:
            process.start()
        port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(haproxy_config(port, [c.port for c in children]))
        with (tmp_path / "haproxy.log").open("wb") as log:
            proxy = subprocess.Popen(
                ["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=0.5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert proxy.poll() is None, (tmp_path / "haproxy.log").read_text()
            assert time.monotonic() < deadline, "haproxy did not come up"
            time.sleep(0.1)
        time.sleep(1.0)  # both servers seen up by the health checks
        yield Balanced(url, children)
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        for process in children:
            process.stop()


def client() -> aiohttp.ClientSession:
    # No connection reuse: each request is balanced on its own.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


async def one_check(http: aiohttp.ClientSession, url: str, clip: EncodedClip) -> dict[str, object]:
    """POST, follow the events until frames were analysed, DELETE, read the verdict: all through the LB."""
    publication = await publish(http, f"{url}/api/checks", ClipTrack(clip))
    try:
        analysed = 0
        async for name, data in events(http, publication.events_url):
            assert name == "feedback", (name, data)
            analysed = int(str(data["frames_analysed"]))
            if analysed > 0:
                break
        async with http.delete(publication.url) as response:
            assert response.status == 204, await response.text()
        verdict = None
        async for name, data in events(http, publication.events_url):
            if name == "verdict":
                verdict = data
        assert verdict is not None and verdict["outcome"] == "ended_by_client", verdict
        return {"analysed": analysed, **verdict}
    finally:
        await publication.pc.close()


async def test_100_checks_round_robin_without_affinity_all_succeed(
    balanced: Balanced, no_hands_clip: EncodedClip
) -> None:
    gate = asyncio.Semaphore(AT_ONCE)
    failures: list[BaseException] = []

    async def run() -> None:
        async with gate:
            try:
                result = await one_check(http, balanced.url, no_hands_clip)
                assert int(str(result["analysed"])) > 0
            except Exception as exc:  # counted, reported below
                failures.append(exc)

    async with client() as http:
        await asyncio.gather(*(run() for _ in range(CHECKS)))
    assert failures == [], f"{len(failures)} of {CHECKS} failed: {failures[:3]}"
    logs = [c.log_path.read_text() for c in balanced.children]
    # Both processes held checks, and both answered for checks the other one held.
    assert all("check " in log and ": started" in log for log in logs)
    assert all("forwarded to process" in log for log in logs)


async def test_killing_the_process_that_holds_a_check_gives_the_client_a_clear_error(
    balanced: Balanced, no_hands_clip: EncodedClip
) -> None:
    owner = balanced.children[0]
    async with client() as http:
        # POST straight to one child (so we know the owner); everything else through the balancer.
        publication = await publish(http, f"{owner.url}/api/checks", ClipTrack(no_hands_clip))
        check_id = publication.url.rsplit("/", 1)[1]
        events_url = f"{balanced.url}/api/checks/{check_id}/events"
        try:
            stream = events(http, events_url)
            async for name, data in stream:
                if name == "feedback" and data["state"] == "analysing":
                    break

            async def heard_of_it() -> str:
                # Either the stream says `lost` (relayed by the other process), or it ends without a
                # verdict (it was the owner's own); a new request then answers 503 check_lost.
                try:
                    async for name, data in stream:
                        if name == "lost":
                            return str(data["error"])
                        assert name == "feedback"
                except aiohttp.ClientError:
                    pass
                async with http.get(events_url) as response:
                    assert response.status == 503, await response.text()
                    return str((await response.json())["error"])

            killed_at = time.monotonic()
            owner.kill()
            error = await asyncio.wait_for(heard_of_it(), LOST_WITHIN_S)
            took = time.monotonic() - killed_at
        finally:
            await publication.pc.close()
    assert error == "check_lost", error
    print(f"check_lost heard {took:.2f} s after the kill")
