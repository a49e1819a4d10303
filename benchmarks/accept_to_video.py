"""Time from the agent's Accept to the first remote video frame on each side, in real browsers.

Run inside the loopback-only namespace (WebRTC gathers on every interface it sees):

    scripts/loopback-only .venv/bin/python -m benchmarks.accept_to_video [--runs 5]

The app runs in this process on a loopback port (create_app) with a private redis-server; the agent
and the customer are two headless Chromium processes, each with its own fake camera, driving the real
console and the real waiting room (tests/support/e2e.py). Times are taken from outside the pages:
Accept's click, the first `session` message on each side, the first painted frame of each remote
video (requestVideoFrameCallback), all on the machine's one clock.

Beside them, measured in the same browsers in the same run:
- the WebRTC floor: two RTCPeerConnections inside one page, offer to first painted remote frame
  (no server, no second process: what the browser and the codec alone cost here);
- the signalling share: Accept to the `session` message on each side.
Target (issue 4): <= 1.5 s on both sides. The last line is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import Browser, async_playwright
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from signlink.web.app import create_app
from tests.support.browser import BASE_FLAGS, FakeCameras, chromium_path
from tests.support.e2e import (
    AGENT_CLIP,
    AGENT_REMOTE,
    CUSTOMER_CLIP,
    CUSTOMER_REMOTE,
    GRANTED,
    AgentSide,
    CustomerSide,
    expect_video_flowing,
    metrics,
)
from tests.support.media import media_dir
from tests.support.redis_proc import RedisProcess
from tests.support.staff import add_account

TARGET_MS = 1500.0

# In one page: a local pair of peer connections carrying the camera, offer to first painted frame.
WEBRTC_FLOOR = """
async () => {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } }, audio: false });
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  const first = new Promise((resolve) => {
    b.ontrack = (e) => {
      video.srcObject = e.streams[0];
      video.requestVideoFrameCallback((now) => resolve(now));
    };
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const t0 = performance.now();
  a.addTrack(stream.getVideoTracks()[0], stream);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const t1 = await first;
  a.close();
  b.close();
  stream.getTracks().forEach((t) => t.stop());
  video.remove();
  return t1 - t0;
}
"""


async def one_call(
    agent_browser: Browser, customer_browser: Browser, base: str, username: str
) -> dict[str, float]:
    agent = await AgentSide.open(agent_browser, base, username)
    customer = await CustomerSide.open(customer_browser, base, permissions=GRANTED)
    try:
        await agent.available()
        await customer.join_without_check("CSL", "phone")
        await customer.camera_on()
        await agent.accept()
        await expect_video_flowing(agent.page, AGENT_REMOTE)
        await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
        a, c = await metrics(agent.page), await metrics(customer.page)
        accept = a["acceptAt"]
        floor = await customer.page.evaluate(WEBRTC_FLOOR)
        return {
            "agent_first_frame_ms": a["firstFrameAt"] - accept,
            "customer_first_frame_ms": c["firstFrameAt"] - accept,
            "agent_session_ms": a["sessionAt"] - accept,
            "customer_session_ms": c["sessionAt"] - accept,
            "webrtc_floor_ms": float(floor),
        }
    finally:
        await agent.page.context.close()
        await customer.page.context.close()


def _median(rows: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(row[key] for row in rows), 1)


async def main(runs: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="signlink-accept-"))
    redis_proc = RedisProcess(work / "redis").start()
    settings = Settings(redis_url=redis_proc.url, model_dir=PROJECT_ROOT / "models")
    redis = Redis.from_url(redis_proc.url)
    cameras = FakeCameras(work)
    media = media_dir()
    runner = web.AppRunner(create_app(settings), shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    rows: list[dict[str, float]] = []
    try:
        async with async_playwright() as driver:

            async def browser(clip: str) -> Browser:
                camera = cameras.make(media / clip, seconds=2)
                args = [*BASE_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
                args.append(f"--use-file-for-fake-video-capture={camera}")
                return await driver.chromium.launch(executable_path=chromium_path(), args=args, headless=True)

            agent_browser, customer_browser = await browser(AGENT_CLIP), await browser(CUSTOMER_CLIP)
            for i in range(runs):
                # A fresh agent per run: the previous call is left as it was, nothing carries over.
                username = f"agent{i}"
                await add_account(settings, redis, username, languages=("CSL",), topics=("phone",))
                row = await one_call(agent_browser, customer_browser, base, username)
                rows.append(row)
                print(f"run {i + 1}/{runs}: " + ", ".join(f"{k} {v:.0f}" for k, v in row.items()), flush=True)
            await agent_browser.close()
            await customer_browser.close()
    finally:
        await runner.cleanup()
        await redis.aclose()
        redis_proc.stop()

    agent_ms, customer_ms = _median(rows, "agent_first_frame_ms"), _median(rows, "customer_first_frame_ms")
    floor_ms = _median(rows, "webrtc_floor_ms")
    summary = {
        "benchmark": "accept_to_video",
        "runs": runs,
        "target_ms": TARGET_MS,
        "agent_accept_to_first_frame_ms": agent_ms,
        "customer_accept_to_first_frame_ms": customer_ms,
        "agent_accept_to_first_frame_max_ms": round(max(r["agent_first_frame_ms"] for r in rows), 1),
        "customer_accept_to_first_frame_max_ms": round(max(r["customer_first_frame_ms"] for r in rows), 1),
        "agent_accept_to_session_ms": _median(rows, "agent_session_ms"),
        "customer_accept_to_session_ms": _median(rows, "customer_session_ms"),
        "baseline_webrtc_floor_ms": floor_ms,
        "agent_ratio_to_floor": round(agent_ms / floor_ms, 2) if floor_ms else None,
        "customer_ratio_to_floor": round(customer_ms / floor_ms, 2) if floor_ms else None,
        "within_target": max(agent_ms, customer_ms) <= TARGET_MS,
    }
    print(
        f"median accept -> first remote frame: agent {agent_ms:.0f} ms, customer {customer_ms:.0f} ms "
        f"(target <= {TARGET_MS:.0f} ms); in-page WebRTC floor {floor_ms:.0f} ms; "
        f"accept -> session message: agent {summary['agent_accept_to_session_ms']:.0f} ms, "
        f"customer {summary['customer_accept_to_session_ms']:.0f} ms"
    )
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="calls to measure (default 5)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs))))
