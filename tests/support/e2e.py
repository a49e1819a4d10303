"""Two-browser end-to-end kit for the call: signlink processes on one Redis, an agent and a customer.

- `SignlinkProcess`: `python -m signlink serve` as a real child process on 127.0.0.1 (kill -9 and
  restart on the same port: what a crashed server looks like to the browsers).
- `WATCH_SCRIPT`: an init script for both pages that measures from the outside, without help from
  the page code: every RTCPeerConnection (for getStats), the first painted frame of the remote video
  (requestVideoFrameCallback), the moment Accept was pressed, and every Notification created.
- `AgentSide` / `CustomerSide`: drive the real console and the real customer pages.

Everything runs on loopback; browsers are the kit's Chromium with fake cameras (tests/support/browser.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from tests.support.browser import FakeCameras, Launch, PageWatch, Serve
from tests.support.redis_proc import free_port
from tests.support.staff import PASSWORD

CALL_MS = 30_000  # generous waits: the machine is shared; nothing here measures time by waiting
AGENT_REMOTE = "#remote-video"
CUSTOMER_REMOTE = "#remote"

# Runs before any page script. `selector` is the remote <video> of that page.
WATCH_SCRIPT = """
(selector) => {
  const e2e = (window.__e2e = { pcs: [], firstFrameAt: null, frames: 0, acceptAt: null, notifications: [] });
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) {
      super(...args);
      e2e.pcs.push(this);
    }
  };
  e2e.sockets = [];
  e2e.audioContexts = 0;
  const NativeWS = window.WebSocket;
  e2e.sessionAt = null; // the first `session` message: the call is set up on this side
  window.WebSocket = class extends NativeWS {
    constructor(...args) {
      super(...args);
      e2e.sockets.push(this);
      this.addEventListener("message", (event) => {
        if (e2e.sessionAt === null && String(event.data).includes('"type":"session"')) {
          e2e.sessionAt = wall(performance.now());
        }
      });
    }
  };
  for (const name of ["AudioContext", "webkitAudioContext"]) {
    const Native = window[name];
    if (!Native) continue;
    window[name] = class extends Native {
      constructor(...args) {
        super(...args);
        e2e.audioContexts += 1;
      }
    };
  }
  const NativeNotification = window.Notification;
  if (NativeNotification) {
    window.Notification = class extends NativeNotification {
      constructor(title, options) {
        super(title, options);
        e2e.notifications.push({ title, body: (options && options.body) || "" });
      }
    };
  }
  // Headless Chromium reports every tab as visible and focused; `__e2e.setHidden(true)` makes this
  // page say what a browser says of a tab in the background (the page's alerts depend on it).
  e2e.hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true,
    get() { return e2e.hidden ? "hidden" : "visible"; },
  });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return e2e.hidden; } });
  const nativeHasFocus = Document.prototype.hasFocus;
  Document.prototype.hasFocus = function () { return !e2e.hidden && nativeHasFocus.call(this); };
  e2e.setHidden = (hidden) => {
    e2e.hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event(hidden ? "blur" : "focus"));
  };
  const wall = (t) => performance.timeOrigin + t;
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#accept") && e2e.acceptAt === null) {
      e2e.acceptAt = wall(performance.now());
    }
  }, true);
  const watch = () => {
    const video = document.querySelector(selector);
    if (!video) return setTimeout(watch, 20);
    const frame = (now) => {
      if (video.videoWidth > 0) {
        if (e2e.firstFrameAt === null) e2e.firstFrameAt = wall(now);
        e2e.frames += 1;
      }
      video.requestVideoFrameCallback(frame);
    };
    video.requestVideoFrameCallback(frame);
  };
  document.addEventListener("DOMContentLoaded", watch);
}
"""

_FRAMES_DECODED = """
async () => {
  let best = 0;
  for (const pc of window.__e2e.pcs) {
    if (pc.connectionState === "closed") continue;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") best = Math.max(best, s.framesDecoded || 0);
    });
  }
  return best;
}
"""


def settings_env(settings: Settings) -> dict[str, str]:
    """SIGNLINK_* variables that rebuild `settings` in a child process (only what differs from defaults)."""
    env: dict[str, str] = {}
    defaults = Settings()
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value == getattr(defaults, f.name):
            continue
        if isinstance(value, tuple):
            text = ",".join(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        env[f"SIGNLINK_{f.name.upper()}"] = text
    return env


@dataclass
class SignlinkProcess:
    """`signlink serve` in a child process. Its log goes to `log_path` (read it when a test fails)."""

    settings: Settings
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNLINK_")}
        env.update(settings_env(self.settings.replace(host="127.0.0.1", port=self.port)))
        env["PYTHONUNBUFFERED"] = "1"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "signlink", "serve"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while not self._healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"signlink exited with {self.process.returncode}: see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"signlink did not answer /healthz in {timeout_s} s: see {self.log_path}")
            time.sleep(0.05)
        return self.url

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=0.5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """kill -9: no shutdown, sockets just vanish (what a crash looks like to the browsers)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# Test media (media/MANIFEST.tsv) for the two fake cameras.
CUSTOMER_CLIP = "videos/pose_signer_man_0.4s.mp4"  # head to waist, hands up: passes the check
NO_HANDS_CLIP = "videos/tfjs_person_far_in_room_4s.mp4"  # no hand big enough: the check fails
AGENT_CLIP = "videos/mps_hand_reaching_8s.mp4"
# Granting permissions replaces the context's set: without "camera" in it Chromium hides the host
# addresses behind mDNS names, which nothing resolves on loopback, and WebRTC never connects.
GRANTED = ["notifications", "camera"]


@dataclass
class Rig:
    """What an end-to-end test needs: servers (in-process or child processes), browsers, Redis."""

    launch: Launch
    serve: Serve
    settings: Settings
    redis: Redis
    cameras: FakeCameras
    media: Path
    tmp_path: Path
    processes: list[SignlinkProcess] = field(default_factory=list)

    def camera(self, clip: str) -> Path:
        return self.cameras.make(self.media / clip, seconds=2)

    def process(self, settings: Settings | None = None) -> SignlinkProcess:
        """A started `signlink serve` child process on the same Redis (stopped after the test)."""
        proc = SignlinkProcess(
            settings or self.settings, self.tmp_path / f"signlink-{len(self.processes)}.log"
        )
        self.processes.append(proc)
        proc.start()
        return proc

    async def agent(
        self, base: str, username: str = "ana", clip: str = AGENT_CLIP, **context: Any
    ) -> AgentSide:
        return await AgentSide.open(await self.launch(self.camera(clip)), base, username, **context)

    async def customer(self, base: str, clip: str = CUSTOMER_CLIP) -> CustomerSide:
        return await CustomerSide.open(await self.launch(self.camera(clip)), base, permissions=GRANTED)


@pytest.fixture
async def rig(
    *,
    launch: Launch,
    serve: Serve,
    settings: Settings,
    redis: Redis,
    fake_cameras: FakeCameras,
    media: Path,
    tmp_path: Path,
) -> AsyncIterator[Rig]:
    kit = Rig(
        launch, serve, settings.replace(call_presence_interval_s=0.5), redis, fake_cameras, media, tmp_path
    )
    yield kit
    for proc in kit.processes:
        proc.stop()


async def watched_page(
    browser: Browser, remote_selector: str, **context_options: Any
) -> tuple[Page, PageWatch]:
    context: BrowserContext = await browser.new_context(**context_options)
    await context.add_init_script(script=f"({WATCH_SCRIPT})({json.dumps(remote_selector)})")
    page = await context.new_page()
    if os.environ.get("SIGNLINK_E2E_CONSOLE"):
        page.on("console", lambda m: print(f"[{remote_selector}] {m.type}: {m.text}"))
    return page, PageWatch.attach(page)


async def frames_decoded(page: Page) -> int:
    value = await page.evaluate(_FRAMES_DECODED)
    return int(value)


async def expect_video_flowing(page: Page, selector: str) -> None:
    """The remote video has a picture (videoWidth > 0) and decoded frames keep rising."""
    video = page.locator(selector)
    await expect(video).to_have_js_property("readyState", 4, timeout=CALL_MS)
    await page.wait_for_function(
        "(sel) => document.querySelector(sel).videoWidth > 0", arg=selector, timeout=CALL_MS
    )
    first = await frames_decoded(page)
    await page.wait_for_function(
        f"async (before) => ({_FRAMES_DECODED})().then((n) => n > before + 5)", arg=first, timeout=CALL_MS
    )
    # And the page paints them: frames reach the screen, not only the decoder.
    painted = await page.evaluate("window.__e2e.frames")
    await page.wait_for_function("(n) => window.__e2e.frames > n + 5", arg=painted, timeout=CALL_MS)


async def drop_sockets(page: Page) -> int:
    """Close the page's open WebSockets from the client side, as a network blip would end them."""
    closed: int = await page.evaluate(
        "() => window.__e2e.sockets.filter((ws) => ws.readyState === WebSocket.OPEN)"
        ".map((ws) => ws.close(3000, 'test: connection cut')).length"
    )
    return closed


async def set_hidden(page: Page, hidden: bool) -> None:
    """The page reports itself hidden (another tab in front) or visible again."""
    await page.evaluate("(hidden) => window.__e2e.setHidden(hidden)", hidden)


async def metrics(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = await page.evaluate(
        "() => ({acceptAt: window.__e2e.acceptAt, firstFrameAt: window.__e2e.firstFrameAt,"
        " sessionAt: window.__e2e.sessionAt,"
        " notifications: window.__e2e.notifications, audioContexts: window.__e2e.audioContexts})"
    )
    return data


@dataclass
class AgentSide:
    page: Page
    watch: PageWatch
    base: str

    @classmethod
    async def open(cls, browser: Browser, base: str, username: str = "ana", **context: Any) -> AgentSide:
        page, watch = await watched_page(browser, AGENT_REMOTE, **context)
        await page.goto(f"{base}/login?next=/agent")
        await page.fill("#username", username)
        await page.fill("#password", PASSWORD)
        await page.click("form.login-form button[type=submit]")
        await page.wait_for_url(f"{base}/agent")
        await expect(page.locator("#console")).to_have_attribute("data-conn", "open", timeout=CALL_MS)
        return cls(page, watch, base)

    @property
    def console(self) -> Any:
        return self.page.locator("#console")

    async def available(self) -> None:
        """Set Available; a waiting customer may be offered at once (then the status is on_offer)."""
        if await self.console.get_attribute("data-status") != "available":
            await self.page.click("#set-available")
        await expect(self.console).to_have_attribute(
            "data-status", re.compile("^(available|on_offer)$"), timeout=CALL_MS
        )

    async def wait_offer(self) -> None:
        await expect(self.console).to_have_attribute("data-view", "offer", timeout=CALL_MS)

    async def accept(self) -> None:
        await self.wait_offer()
        await self.page.click("#accept")
        await expect(self.console).to_have_attribute("data-view", "call", timeout=CALL_MS)

    async def wrap_up(self, outcome: str = "resolved", notes: str = "") -> None:
        await expect(self.console).to_have_attribute("data-view", "wrapup", timeout=CALL_MS)
        await self.page.select_option("#wrapup-outcome", outcome)
        if notes:
            await self.page.fill("#wrapup-notes", notes)
        await self.page.click("#wrapup-submit")
        await expect(self.console).to_have_attribute("data-view", "idle", timeout=CALL_MS)


@dataclass
class CustomerSide:
    page: Page
    watch: PageWatch
    base: str

    @classmethod
    async def open(cls, browser: Browser, base: str, **context: Any) -> CustomerSide:
        page, watch = await watched_page(browser, CUSTOMER_REMOTE, **context)
        return cls(page, watch, base)

    async def start_with_check(
        self, language: str, topic: str, device_model: str = "", *, passes: bool = True
    ) -> None:
        """The start page, the camera check (passed, or failed and "Continue anyway"), the waiting room."""
        page = self.page
        await page.goto(f"{self.base}/")
        await page.check(f'input[name="language"][value="{language}"]')
        await page.check(f'input[name="topic"][value="{topic}"]')
        if device_model:
            await page.fill("#device-model", device_model)
        await page.click("#go")
        await page.wait_for_url("**/check?**")
        await page.click("#start")
        outcome = "passed" if passes else "failed"
        await expect(page.locator("#check")).to_have_attribute("data-state", outcome, timeout=60_000)
        await page.click("#continue" if passes else "#continue-anyway")
        await page.wait_for_url("**/wait?**")

    async def join_without_check(self, language: str, topic: str) -> None:
        """Straight to the waiting room, as after "Continue without camera check"."""
        await self.page.goto(f"{self.base}/wait?language={language}&topic={topic}&verdict=none")

    @property
    def journey(self) -> Any:
        return self.page.locator("#journey")

    async def camera_on(self) -> None:
        """The waiting room's self view shows the camera (tests that need the customer's video from
        the first frame wait for it; test_call_e2e also covers an accept before the camera opens)."""
        await self.page.wait_for_function(
            "() => document.getElementById('self-wait').videoWidth > 0", timeout=CALL_MS
        )

    async def wait_state(self, state: str) -> None:
        await expect(self.journey).to_have_attribute("data-state", state, timeout=CALL_MS)
