"""The live check under measurement: time to verdict through WHIP, and checks one process sustains.

Run inside the loopback-only namespace (WebRTC gathers on every interface it sees):

    scripts/loopback-only .venv/bin/python -m benchmarks.quality_live

The app runs in this process on a loopback port with a private redis-server, exactly as
`create_app` builds it. Publishers are real aiortc peers sending a pre-encoded VP8 clip at its real
rate (tests/check/whip_client.py): in production the browser encodes on the customer's machine.

1. Time from the first frame sent to the verdict event, for a good clip (median of several runs),
   beside the baseline of the same analyser fed the same frames offline: the media time at which the
   clip first gives a complete passing verdict (what the content itself needs) and the compute.
3. The waiting room's continued watch: N watches (POST /api/checks?watch=...) from a sender capped
   as check-watch.js caps it (320 wide, 3 fps), analysed at SIGNLINK_CHECK_WATCH_ANALYSIS_FPS;
   the server's CPU with them beside the same server idle, per waiting customer.
2. Concurrent checks: N = 1, 2, 4, ... publishers (in a separate load-generator process) stream the
   good clip; checks are kept open past their pass. Per N, the minimum per-check analysed frame
   rate, read from the public events stream. Beside it, the capacity the bare analysis cost
   predicts for this machine's cores.

benchmarks/quality.py calls `measure_live()` and merges the result under "live".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import av
import numpy as np
from aiohttp import web

from benchmarks.common import require_loopback_only, serving
from signlink.check import service as check_service
from signlink.config import PROJECT_ROOT, Settings
from signlink.web import keys
from tests.check.whip_client import (
    GOOD_CLIP,
    ClipSpec,
    ClipTrack,
    EncodedClip,
    clip_spec,
    encode_clip,
    events,
    final_verdict,
    publish,
)
from tests.support import loopback_ice
from tests.support.media import media_dir
from tests.support.redis_proc import RedisProcess

LEVELS = (1, 2, 4, 6, 8, 10, 12)
MIN_ANALYSED_FPS = 5.0
TARGET_VERDICT_S = 1.5
TARGET_CHECKS = 8
WARMUP_S = 3.0
MEASURE_S = 6.0


# -- 1. time to verdict ------------------------------------------------------------------------


def offline_baseline(clip: EncodedClip, settings: Settings) -> dict[str, float | None]:
    """The same analyser on the same decoded frames, no WebRTC, no pacing: when does it first pass?"""
    factory = check_service.analyser_factory(settings)
    decoder = av.CodecContext.create("vp8", "r")
    analyser = factory()
    media_s: float | None = None
    analysed, compute = 0, 0.0
    try:
        for lap in range(5):
            for data, offset in clip.packets:
                timestamp = lap * clip.duration_s + offset
                for frame in decoder.decode(av.Packet(data)):
                    analyser.note_frame(timestamp, frame.width, frame.height)
                    if not analyser.due(timestamp):
                        continue
                    started = time.perf_counter()
                    analyser.analyse(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8), timestamp)
                    verdict = analyser.verdict()
                    compute += time.perf_counter() - started
                    analysed += 1
                    if verdict.complete and verdict.passed:
                        media_s = timestamp
                        break
                if media_s is not None:
                    break
            if media_s is not None:
                break
    finally:
        analyser.close()
    return {
        "media_time_to_pass_s": media_s,
        "analysed_frames": analysed,
        "analysis_ms_per_frame": 1000 * compute / max(analysed, 1),
    }


async def time_to_verdict(base: str, clip: EncodedClip, runs: int) -> dict[str, object]:
    verdict_s: list[float] = []
    connect_s: list[float] = []
    passed: list[bool] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(runs):
            track = ClipTrack(clip)
            started = time.monotonic()
            publication = await publish(http, f"{base}/api/checks", track)
            connect_s.append(time.monotonic() - started)
            try:
                verdict, _ = await final_verdict(http, publication.events_url)
            finally:
                await publication.pc.close()
            assert track.first_sent_at is not None
            verdict_s.append(time.monotonic() - track.first_sent_at)
            passed.append(verdict["passed"] is True)
    return {
        "median_s": statistics.median(verdict_s),
        "runs_s": [round(v, 3) for v in verdict_s],
        "all_passed": all(passed),
        "post_to_answer_median_s": statistics.median(connect_s),
    }


# -- 2. concurrent checks ----------------------------------------------------------------------


@dataclass
class Follow:
    """(time, frames analysed, frames received) from one check's feedback events."""

    samples: list[tuple[float, int, int]] = field(default_factory=list)

    def rates(self, start: float, end: float) -> tuple[float, float]:
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0
        (t0, a0, r0), (t1, a1, r1) = inside[0], inside[-1]
        return (a1 - a0) / (t1 - t0), (r1 - r0) / (t1 - t0)


async def _follow(http: aiohttp.ClientSession, url: str, into: Follow) -> None:
    with contextlib.suppress(aiohttp.ClientError, RuntimeError):
        async for name, data in events(http, f"{url}/events"):
            if name == "feedback":
                analysed, received = data["frames_analysed"], data["frames_received"]
                assert isinstance(analysed, int) and isinstance(received, int)
                into.samples.append((time.monotonic(), analysed, received))


def _cpu_s_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _busy_cores_s() -> float:
    """CPU seconds the whole machine spent busy (all processes, /proc/stat), for the load context."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_level(
    base: str, http: aiohttp.ClientSession, n: int, clip: ClipSpec, cache: Path
) -> dict[str, float]:
    loadgen = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.check.whip_client",
        f"{base}/api/checks",
        *clip.args(),
        "--cache",
        str(cache),
        "--count",
        str(n),
        stdout=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    follows: list[Follow] = []
    tasks: list[asyncio.Task[None]] = []
    urls: list[str] = []
    try:
        assert loadgen.stdout is not None
        for _ in range(n):
            line = await asyncio.wait_for(loadgen.stdout.readline(), 60)
            if not line:
                raise RuntimeError("the load generator stopped")
            urls.append(line.decode().strip())
        for url in urls:
            follows.append(Follow())
            tasks.append(asyncio.create_task(_follow(http, url, follows[-1])))
        await asyncio.sleep(WARMUP_S)
        start, cpu0, gen0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF), _cpu_s_of(loadgen.pid)
        busy0 = _busy_cores_s()
        await asyncio.sleep(MEASURE_S)
        end, cpu1, gen1 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF), _cpu_s_of(loadgen.pid)
        busy1 = _busy_cores_s()
        rss = _rss_mib()
    finally:
        for url in urls:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.delete(url):
                    pass
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        loadgen.kill()
        await loadgen.wait()
    analysed = [f.rates(start, end)[0] for f in follows]
    received = [f.rates(start, end)[1] for f in follows]
    wall = end - start
    server_cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / wall
    loadgen_cpu = (gen1 - gen0) / wall
    return {
        "checks": n,
        "min_analysed_fps": round(min(analysed), 2),
        "median_analysed_fps": round(statistics.median(analysed), 2),
        "min_received_fps": round(min(received), 2),
        "server_cpu_cores": round(server_cpu, 2),
        "loadgen_cpu_cores": round(loadgen_cpu, 2),
        # Other processes on the machine during the measurement (a shared machine skews the figures).
        "other_processes_cpu_cores": round(max(0.0, (busy1 - busy0) / wall - server_cpu - loadgen_cpu), 2),
        "server_rss_mib": round(rss),
    }


async def capacity(
    base: str, app: web.Application, clip: ClipSpec, cache: Path, levels_to_try: tuple[int, ...]
) -> list[dict[str, float]]:
    app[keys.CHECKS].end_on_pass = False  # keep good-video checks analysing: sustained load
    levels: list[dict[str, float]] = []
    async with aiohttp.ClientSession() as http:
        for n in levels_to_try:
            level = await one_level(base, http, n, clip, cache)
            levels.append(level)
            print(f"  {n:2d} checks: {level}", flush=True)
            if level["min_analysed_fps"] < MIN_ANALYSED_FPS:
                break
            assert app[keys.CHECKS].live_count == 0  # DELETE waits until each slot is free
    return levels


# -- 3. the continued watch ---------------------------------------------------------------------

WATCHES = 10
WATCH_FPS = 3.0  # check-watch.js: maxFramerate 3, scaleResolutionDownBy 2
WATCH_WIDTH = 320
WATCH_MEASURE_S = 12.0
TARGET_WATCH_CORE_SHARE = 0.02


async def _server_cpu_over(seconds: float) -> float:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    await asyncio.sleep(seconds)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / (
        time.monotonic() - started
    )


async def watch_cost(base: str, app: web.Application, spec: ClipSpec, cache: Path) -> dict[str, object]:
    """Server CPU per waiting customer of the continued watch, beside the same server idle."""
    idle = await _server_cpu_over(WATCH_MEASURE_S / 2)
    capped = ClipSpec(spec.path, spec.start_s, spec.end_s, WATCH_WIDTH, WATCH_FPS)
    loadgen = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.check.whip_client",
        f"{base}/api/checks?watch=benchmark-watch-{{n}}",
        *capped.args(),
        "--cache",
        str(cache),
        "--count",
        str(WATCHES),
        stdout=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    urls: list[str] = []
    try:
        assert loadgen.stdout is not None
        for _ in range(WATCHES):
            line = await asyncio.wait_for(loadgen.stdout.readline(), 60)
            if not line:
                raise RuntimeError("the load generator stopped")
            urls.append(line.decode().strip())
        await asyncio.sleep(WARMUP_S)
        service = app[keys.CHECKS]
        sessions = [service.get(url.rsplit("/", 1)[1]) for url in urls]
        analysed0 = sum(s.frames_analysed for s in sessions)
        received0 = sum(s.frames_received for s in sessions)
        busy0, t0 = _busy_cores_s(), time.monotonic()
        loaded = await _server_cpu_over(WATCH_MEASURE_S)
        wall = time.monotonic() - t0
        others = max(0.0, (_busy_cores_s() - busy0) / wall - loaded)
        analysed = (sum(s.frames_analysed for s in sessions) - analysed0) / wall / WATCHES
        received = (sum(s.frames_received for s in sessions) - received0) / wall / WATCHES
    finally:
        async with aiohttp.ClientSession() as http:
            for url in urls:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.delete(url):
                        pass
        loadgen.kill()
        await loadgen.wait()
    per_watch = max(0.0, loaded - idle) / WATCHES
    return {
        "watches": WATCHES,
        "sender": f"{WATCH_WIDTH} wide, {WATCH_FPS:g} fps",
        "analysed_fps_per_watch": round(analysed, 2),
        "received_fps_per_watch": round(received, 2),
        "server_cpu_cores_idle": round(idle, 4),
        "server_cpu_cores_with_watches": round(loaded, 4),
        "core_share_per_waiting_customer": round(per_watch, 4),
        "target_core_share": TARGET_WATCH_CORE_SHARE,
        "other_processes_cpu_cores": round(others, 2),
    }


# -- all ----------------------------------------------------------------------------------------


async def measure_live(
    *, runs: int = 7, levels_to_try: tuple[int, ...] = LEVELS, with_watch: bool = True
) -> dict[str, object]:
    """Figures of the live path (see the module docstring); must run inside scripts/loopback-only."""
    require_loopback_only()
    loopback_ice.install()
    load_before = os.getloadavg()[0]
    spec = clip_spec(media_dir(), GOOD_CLIP)
    with tempfile.TemporaryDirectory(prefix="signlink-bench-") as tmp:
        cache = Path(tmp)
        clip = encode_clip(spec, cache_dir=cache)
        redis = RedisProcess(cache / "redis").start()
        try:
            settings = Settings(
                redis_url=redis.url,
                model_dir=PROJECT_ROOT / "models",
                check_max_concurrent=max(levels_to_try),
                check_timeout_s=WARMUP_S + MEASURE_S + 60,
                check_watch_max_concurrent=WATCHES,
                check_max_per_address=max(levels_to_try),  # every publisher is this one host
            )
            baseline = await asyncio.to_thread(offline_baseline, clip, settings)
            print(f"offline baseline: {baseline}", flush=True)
            async with serving(settings) as (base, app):
                live = await time_to_verdict(base, clip, runs)
                print(f"live time to verdict: {live}", flush=True)
                watch = await watch_cost(base, app, spec, cache) if with_watch else None
                print(f"continued watch: {watch}", flush=True)
                levels = await capacity(base, app, spec, cache, levels_to_try)
        finally:
            redis.stop()
    cores = len(os.sched_getaffinity(0))
    cost_ms = baseline["analysis_ms_per_frame"] or 0.0
    sustained = [lv["checks"] for lv in levels if lv["min_analysed_fps"] >= MIN_ANALYSED_FPS]
    # What one check costs besides its analyses (decoding 30 frames/s, RTP, events), from N = 1.
    one = levels[0]
    fixed = max(0.0, one["server_cpu_cores"] - one["median_analysed_fps"] * cost_ms / 1000)
    per_check_at_5fps = fixed + MIN_ANALYSED_FPS * cost_ms / 1000
    others = statistics.median(lv["other_processes_cpu_cores"] for lv in levels)
    media_s = baseline["media_time_to_pass_s"]
    median = live["median_s"]
    assert isinstance(median, float)
    return {
        "clip": f"{GOOD_CLIP[0]} {GOOD_CLIP[1]}-{GOOD_CLIP[2]} s at {clip.width}x{clip.height}",
        "analysis_workers": check_service.ANALYSIS_WORKERS,
        "time_to_verdict": {
            **live,
            "target_s": TARGET_VERDICT_S,
            "baseline_offline_media_time_to_pass_s": media_s,
            "overhead_over_baseline_s": None if media_s is None else round(median - media_s, 3),
        },
        "concurrency": {
            "levels": levels,
            "max_checks_at_5fps": max(sustained, default=0),
            "target_checks": TARGET_CHECKS,
            "baseline_analysis_ms_per_frame": round(cost_ms, 2),
            "fixed_cpu_cores_per_check": round(fixed, 3),
            "predicted_checks_at_5fps_free_machine": round(cores / per_check_at_5fps, 1),
            "predicted_checks_at_5fps_cores_left_by_others": round(
                max(0.0, cores - others) / per_check_at_5fps, 1
            ),
            "cores": cores,
            "other_processes_cpu_cores_median": others,
        },
        "continued_watch": watch,
        "load_average_before": round(load_before, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, help="analysis workers (default: one per core)")
    parser.add_argument("--levels", help="concurrent checks to try, e.g. 8,10 (default: a ramp from 1)")
    parser.add_argument("--runs", type=int, default=7, help="time-to-verdict runs")
    args = parser.parse_args()
    if args.workers:  # exploring the pool size
        check_service.ANALYSIS_WORKERS = args.workers
    levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else LEVELS
    summary = asyncio.run(measure_live(runs=args.runs, levels_to_try=levels))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
