"""Real-browser test kit: Debian's Chromium with a fake camera, the app on a loopback port, axe-core.

Fixtures (import them into a conftest.py): `fake_cameras` (session: clips -> .y4m files the fake
camera plays), `playwright`, `launch` (a Chromium per fake-camera file), `serve` (the app on
127.0.0.1:<free port>). Plain helpers: `run_axe`, `Shots`.

Browser tests never skip: a missing browser, ffmpeg or axe-core fails with the command that installs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, Playwright, async_playwright

from signlink.config import PROJECT_ROOT, Settings
from signlink.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_HINT = "install it with `scripts/system-deps.sh test` (as root) or `make test`"

# Flags from ../shared/FIELD-NOTES.md: no sandbox (root), nothing phoned home, camera permission
# granted, a file as the camera, WebRTC allowed on loopback (else ICE gathering never completes).
BASE_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
)
FAKE_CAMERA_FLAGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")

# The fake camera offers only the file's own size, and the page asks for 640x480 at 30 fps.
CAMERA_WIDTH, CAMERA_HEIGHT, CAMERA_FPS = 640, 480, 30


def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}: {INSTALL_HINT}")
    return str(CHROMIUM)


def _ffmpeg() -> str:
    binary = shutil.which("ffmpeg")
    if binary is None:
        pytest.fail(f"browser tests make their fake-camera clips with ffmpeg: {INSTALL_HINT}")
    return binary


@dataclass
class FakeCameras:
    """Turns test media into .y4m files for Chromium's fake camera (made once per run, then cached).

    A still image becomes a clip of that image. The picture is scaled to 640x480; `seconds` keeps
    clips short (y4m is raw: 1 s is 13.8 MB). Chromium loops the file.
    """

    cache: Path
    made: dict[str, Path] = field(default_factory=dict)

    def make(self, source: Path, *, seconds: float = 3.0) -> Path:
        key = hashlib.sha256(f"{source.resolve()}|{seconds}".encode()).hexdigest()[:12]
        if key in self.made:
            return self.made[key]
        out = self.cache / f"{source.stem}-{key}.y4m"
        still = source.suffix.lower() in {".png", ".jpg", ".jpeg"}
        cmd = [_ffmpeg(), "-loglevel", "error", "-y"]
        cmd += ["-loop", "1"] if still else []
        cmd += ["-i", str(source), "-t", f"{seconds:g}", "-an"]
        cmd += ["-vf", f"scale={CAMERA_WIDTH}:{CAMERA_HEIGHT},setsar=1,fps={CAMERA_FPS}"]
        cmd += ["-pix_fmt", "yuv420p", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        self.made[key] = out
        return out


@pytest.fixture(scope="session")
def fake_cameras(tmp_path_factory: pytest.TempPathFactory) -> FakeCameras:
    return FakeCameras(tmp_path_factory.mktemp("fake-cameras"))


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


Launch = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def launch(playwright: Playwright) -> AsyncIterator[Launch]:
    """`await launch(camera)`: a headless Chromium whose camera plays `camera` (a .y4m file).

    `camera=None` starts one without the fake camera (no camera at all, as on a desktop without one);
    `grant_camera=False` keeps the fake camera but lets the browser refuse the permission.
    One fake-camera file per browser process: launch two browsers for two different cameras.
    Playwright gives every launch a fresh temporary profile (its own --user-data-dir).
    """
    browsers: list[Browser] = []

    async def start(
        camera: Path | None, *, grant_camera: bool = True, extra_args: Sequence[str] = ()
    ) -> Browser:
        args = list(BASE_FLAGS)
        if camera is not None:
            args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        if grant_camera:
            args.append("--use-fake-ui-for-media-stream")
        args += extra_args
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=args, headless=True)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        await browser.close()


Serve = Callable[[Settings], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """`base_url = await serve(settings)`: the app from `create_app` on 127.0.0.1:<free port>.

    A real socket (not the test client): the browser is another process. Loopback only.
    """
    runners: list[web.AppRunner] = []

    async def start(settings: Settings) -> str:
        runner = web.AppRunner(create_app(settings), shutdown_timeout=5.0)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@dataclass
class PageWatch:
    """Collects what the page reports on its console; a test fails on errors the page did not expect."""

    errors: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Page) -> PageWatch:
        watch = cls()
        page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
        page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
        return watch


def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` in the project (make test does)")
    return AXE.read_text("utf-8")


async def run_axe(page: Page, *, impacts: Sequence[str] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the page as it is now (WCAG 2.x A/AA rules).

    The source goes in through the DevTools protocol (`page.evaluate`), which the page's CSP does not
    govern: `add_script_tag` would be an inline script and be refused. So the CSP stays on
    (no `bypass_csp`) and axe sees the page exactly as a user gets it.
    """
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source() + "\n;undefined")
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                "best-practice"]},
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return [v for v in violations if v["impact"] in impacts]


@dataclass
class Shots:
    """Screenshots at key states into $SIGNLINK_SCREENSHOTS (a folder), when it is set."""

    folder: Path | None

    @classmethod
    def from_env(cls) -> Shots:
        folder = os.environ.get("SIGNLINK_SCREENSHOTS")
        return cls(Path(folder) if folder else None)

    async def take(self, page: Page, name: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
