"""The customer's journey in real Chromium with a fake camera, against the real server and Redis:
start -> camera check -> waiting room -> the call -> rating.

The agent's side is a ScriptedAgent (journey_agent.py): a real staff login, the real /ws protocol and
a real aiortc peer sending a clip, so the customer's page meets exactly what an agent's browser sends.
The two-browser end-to-end tests belong to the agent console.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.queue.models import TicketState
from signlink.queue.store import QueueStore
from signlink.records.sessions import SessionRecords
from signlink.web import i18n
from signlink.web.app import create_app
from tests.browser.journey_agent import ScriptedAgent
from tests.check.whip_client import ClipSpec, EncodedClip, encode_clip
from tests.support.browser import FakeCameras, Launch, PageWatch, Serve, Shots, run_axe

pytestmark = pytest.mark.browser

HANDS_CLIP = "videos/pose_signer_man_0.4s.mp4"  # head to waist, hands up: passes (test_check_page.py)
CHECK_MS = 60_000
WAIT_MS = 20_000  # generous: two shared cores run the browser, the server and the agent's codec
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 720}
FAST = {"call_presence_interval_s": 0.5}

# Records each notification the page shows (it still goes to the real Notification).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__notifications = [];
  window.__permissionRequests = 0;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__notifications.push({ title, body: options.body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => {
    window.__permissionRequests += 1;
    return Real.requestPermission(...args);
  };
  window.Notification = Recorded;
})();
"""
# Keeps the page's peer connections within the test's reach (they still are the real ones).
KEEP_PEER_CONNECTIONS = """
(() => {
  const Real = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Real(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Real.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Real);
})();
"""


def en(key: str, **values: object) -> str:
    return i18n.translate("en", key, **values)


def zh(key: str, **values: object) -> str:
    return i18n.translate("zh-CN", key, **values)


@pytest.fixture
def shots() -> Shots:
    return Shots.from_env()


@pytest.fixture
def hands_camera(fake_cameras: FakeCameras, media: Path) -> Path:
    return fake_cameras.make(media / HANDS_CLIP, seconds=2)


@pytest.fixture(scope="session")
def agent_clip(media: Path, pytestconfig: pytest.Config) -> EncodedClip:
    store = getattr(pytestconfig, "cache", None)  # -p no:cacheprovider: no attribute at all
    cache = store.mkdir("signlink-vp8-clips") if store is not None else None
    return encode_clip(ClipSpec(media / HANDS_CLIP), cache_dir=cache)


AgentFactory = Callable[..., Awaitable[ScriptedAgent]]


@pytest.fixture
async def agents(settings: Settings, redis: Redis, agent_clip: EncodedClip) -> AsyncIterator[AgentFactory]:
    """`await agents(base_url, status="available"|"away"|None, languages=...)`: a connected agent."""
    made: list[ScriptedAgent] = []

    async def make(base: str, *, status: str | None = "available", **kw: Any) -> ScriptedAgent:
        agent = await ScriptedAgent.create(base, agent_clip, settings, redis, **kw)
        made.append(agent)
        await agent.connect()
        if status:
            await agent.status(status)
        return agent

    yield make
    for agent in made:
        await agent.close()


class Waiter:
    """A customer queued from Python (POST + a /ws hello that keeps the ticket alive)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token = ""

    async def join(self, language: str = "CSL", topic: str = "phone") -> None:
        body = {"language": language, "topic": topic}
        async with self.http.post(f"{self.base}/api/tickets", json=body) as response:
            assert response.status == 201, await response.text()
            self.token = (await response.json())["token"]
        self.ws = await self.http.ws_connect(f"{self.base}/ws")
        await self.ws.send_str(json.dumps({"type": "hello", "role": "customer", "token": self.token}))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


WaiterFactory = Callable[[str], Awaitable[Waiter]]


@pytest.fixture
async def waiters() -> AsyncIterator[WaiterFactory]:
    made: list[Waiter] = []

    async def make(base: str) -> Waiter:
        waiter = Waiter(base)
        made.append(waiter)
        await waiter.join()
        return waiter

    yield make
    for waiter in made:
        await waiter.close()


@dataclass
class Journey:
    """What every journey test uses: the server, a browser with the fake camera, agents, waiters."""

    launch: Launch
    serve: Serve
    settings: Settings
    camera: Path
    redis: Redis
    shots: Shots
    agents: AgentFactory
    waiters: WaiterFactory

    async def start(self) -> str:
        return await self.serve(self.settings.replace(**FAST))

    async def browser(self) -> Browser:
        return await self.launch(self.camera)


@pytest.fixture
def journey(
    *,
    launch: Launch,
    serve: Serve,
    settings: Settings,
    hands_camera: Path,
    redis: Redis,
    shots: Shots,
    agents: AgentFactory,
    waiters: WaiterFactory,
) -> Journey:
    return Journey(launch, serve, settings, hands_camera, redis, shots, agents, waiters)


class Restartable:
    """The app on one fixed loopback port that can be stopped and started again (a process restart)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        runner = web.AppRunner(create_app(self.settings), shutdown_timeout=5.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self.port = runner.addresses[0][1]
        self.runner = runner
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()


@pytest.fixture
async def restartable(settings: Settings) -> AsyncIterator[Restartable]:
    server = Restartable(settings.replace(**FAST))
    yield server
    await server.stop()


async def new_page(
    browser: Browser, *, viewport: ViewportSize | None = DESKTOP, notifications: bool = False
) -> tuple[Page, PageWatch, BrowserContext]:
    context = await browser.new_context(viewport=viewport, device_scale_factor=1)
    await context.add_init_script(KEEP_PEER_CONNECTIONS)
    if notifications:
        await context.add_init_script(RECORD_NOTIFICATIONS)
    page = await context.new_page()
    return page, PageWatch.attach(page), context


def wait_url(base: str, language: str = "CSL", topic: str = "phone", verdict: str = "none") -> str:
    return f"{base}/wait?language={language}&topic={topic}&verdict={verdict}"


async def journey_state(page: Page, value: str) -> None:
    await expect(page.locator("#journey")).to_have_attribute("data-state", value, timeout=WAIT_MS)


async def stored_ticket(page: Page) -> dict[str, Any]:
    raw = await page.evaluate("localStorage.getItem('signlink.ticket')")
    assert raw, "no ticket in localStorage"
    ticket: dict[str, Any] = json.loads(raw)
    return ticket


async def axe_clean(page: Page, where: str) -> None:
    violations = await run_axe(page)
    assert violations == [], f"{where}: {violations}"


def unexpected(watch: PageWatch) -> list[str]:
    # A dropped server refuses connections: the browser logs those itself; nothing else may appear.
    return [e for e in watch.errors if "ERR_CONNECTION_REFUSED" not in e and "WebSocket connection" not in e]


# ---- start -> check -> waiting room ----


async def test_start_choose_check_and_wait_shows_place_and_estimate(journey: Journey) -> None:
    base = await journey.start()
    agent = await journey.agents(base)
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(f"{base}/")
    # Served now: shown on the cards before anything is chosen.
    await expect(page.locator('.choice[data-value="CSL"] .served')).to_have_text(en("start.served"))
    await expect(page.locator('.choice[data-value="BSL"] .served')).to_have_text(en("start.not_served"))
    await journey.shots.take(page, "journey-start")
    await page.click('.choice[data-value="CSL"]')
    await page.click('.choice[data-value="phone"]')
    await page.fill("#device-model", "Mate 60")
    await page.fill("#device-serial", "SN-4411")
    await page.click("#go")
    await page.wait_for_url(re.compile(r"/check\?next="))
    await page.click("#start")
    await expect(page.locator("#check")).to_have_attribute("data-state", "passed", timeout=CHECK_MS)
    await page.click("#continue")
    await page.wait_for_url(re.compile(r"/wait\?language=CSL&topic=phone&verdict=[\w-]+"))

    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("1")
    await expect(page.locator("#estimate")).to_have_text(re.compile(r"\d+ minute|1 minute"))
    await expect(page.locator("#wait-status")).to_contain_text(en("wait.next"))
    await expect(page.locator("#sum-device")).to_have_text("Mate 60 · SN-4411")
    await expect(page.locator("#self-wait")).to_have_js_property("readyState", 4)
    assert en("wait.tab_title", n=1) in await page.title()
    # What the customer typed once reaches the agent with the offer, beside the check's result.
    offer = await agent.expect("offer")
    assert offer["ticket"]["device_model"] == "Mate 60"
    assert offer["ticket"]["device_serial"] == "SN-4411"
    assert offer["ticket"]["language"] == "CSL"
    assert offer["check"]["passed"] is True
    await journey.shots.take(page, "journey-waiting")
    # Chosen once, remembered for the next visit.
    await page.goto(f"{base}/")
    await expect(page.locator('input[name="language"][value="CSL"]')).to_be_checked()
    await expect(page.locator('input[name="topic"][value="phone"]')).to_be_checked()
    await expect(page.locator("#device-model")).to_have_value("Mate 60")
    await expect(page.locator("#resume")).to_be_visible()  # and the place is still there
    assert watch.errors == [], watch.errors


async def test_leaving_the_queue_asks_first_and_frees_the_place(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("1")
    token = (await stored_ticket(page))["token"]

    await page.click("#leave")
    await expect(page.locator("#leave-dialog")).to_be_visible()
    await journey.shots.take(page, "journey-leave-confirm")
    await page.click("#leave-no")  # changed their mind: still waiting
    await expect(page.locator("#leave-dialog")).to_be_hidden()
    await journey_state(page, "waiting")

    await page.click("#leave")
    await page.click("#leave-yes")
    await journey_state(page, "left")
    await expect(page.locator("#message-title")).to_contain_text(en("wait.left_title"))
    await expect(page.locator("#message-title")).to_be_focused()
    assert await page.evaluate("localStorage.getItem('signlink.ticket')") is None
    ticket = await QueueStore(journey.redis, journey.settings).ticket_by_token(token)
    assert ticket.state is TicketState.ABANDONED
    await journey.shots.take(page, "journey-left")
    assert watch.errors == [], watch.errors


async def test_a_reload_keeps_the_place_instead_of_joining_again(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away")
    await journey.waiters(base)  # one customer ahead
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("2")
    before = await stored_ticket(page)
    await journey.waiters(base)  # one behind: joining again would now be number 3

    await page.reload()
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("2")
    assert (await stored_ticket(page))["ticket_id"] == before["ticket_id"]
    snapshot = await QueueStore(journey.redis, journey.settings).snapshot()
    assert snapshot.waiting == 3
    assert watch.errors == [], watch.errors


async def test_a_server_restart_while_waiting_says_reconnecting_and_keeps_the_place(
    journey: Journey, restartable: Restartable
) -> None:
    base = await restartable.start()
    await journey.agents(base, status="away")
    await journey.waiters(base)
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(wait_url(base))
    await expect(page.locator("#position")).to_have_text("2", timeout=WAIT_MS)
    ticket_id = (await stored_ticket(page))["ticket_id"]

    await restartable.stop()  # every socket is closed; the place lives in Redis
    await expect(page.locator("#conn-text")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#conn-text")).to_contain_text(en("wait.reconnecting"))
    await video_plays(page, "#self-wait")  # the self view goes on meanwhile
    await journey.shots.take(page, "journey-reconnecting")
    await restartable.start()
    await expect(page.locator("#conn-text")).to_be_hidden(timeout=WAIT_MS)
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("2")
    assert (await stored_ticket(page))["ticket_id"] == ticket_id
    assert unexpected(watch) == [], watch.errors


# ---- sign language not served ----


async def test_no_agent_for_the_chosen_language_is_said_at_once_with_the_served_ones(
    journey: Journey,
) -> None:
    base = await journey.start()
    await journey.agents(base, status="away", languages=("CSL",))
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(f"{base}/")
    await page.click('.choice[data-value="ASL"]')
    notice = page.locator("#not-served")
    await expect(notice).to_contain_text(en("start.not_served_now", language=en("sl.ASL")))
    await expect(notice.locator('button[data-language="CSL"]')).to_have_text(en("sl.CSL"))
    await expect(notice.locator('button[data-language="BSL"]')).to_have_count(0)
    await page.click('.choice[data-value="phone"]')
    await journey.shots.take(page, "journey-not-served")
    await page.click("#go")  # not let through to a queue nobody serves
    await expect(notice.locator('button[data-language="CSL"]')).to_be_focused()
    assert "/check" not in page.url
    await page.keyboard.press("Enter")  # choose the served one
    await expect(page.locator('input[name="language"][value="CSL"]')).to_be_checked()
    await expect(page.locator("#not-served-body")).to_be_hidden()
    # A served language without an agent for the topic: said the same way, with the served topics.
    await page.click('.choice[data-value="smart_home"]')
    topic_title = en("start.topic_not_served_now", topic=en("topic.smart_home"), language=en("sl.CSL"))
    await expect(notice).to_contain_text(topic_title)
    await expect(notice.locator("button[data-topic]")).to_have_text([en("topic.phone"), en("topic.pc")])
    await notice.locator('button[data-topic="pc"]').click()
    await expect(page.locator('input[name="topic"][value="pc"]')).to_be_checked()
    await page.click("#go")
    await page.wait_for_url(re.compile(r"/check\?next=%2Fwait%3Flanguage%3DCSL%26topic%3Dpc"))

    # The same answer from the waiting room (the agent may go away between the pages).
    await page.goto(wait_url(base, language="ASL"))
    await journey_state(page, "not_served")
    await expect(page.locator("#message-title")).to_have_text(
        en("wait.not_served_title", language=en("sl.ASL"))
    )
    await page.click('#wait-served-choices button[data-language="CSL"]')
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("1")
    await expect(page.locator("#sum-language")).to_have_text(en("sl.CSL"))
    assert [e for e in watch.errors if "422" not in e] == [], watch.errors


# ---- Chinese ----


async def test_the_journey_in_chinese(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="available")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(f"{base}/?lang=zh-CN")
    await expect(page.locator("h1")).to_have_text(zh("start.title"))
    await expect(page.locator('.choice[data-value="CSL"] .choice-label')).to_have_text(zh("sl.CSL"))
    await expect(page.locator('.choice[data-value="CSL"] .served')).to_have_text(zh("start.served"))
    await page.click('.choice[data-value="CSL"]')
    await page.click('.choice[data-value="pc"]')
    await journey.shots.take(page, "journey-start-zh-CN")
    await page.click("#go")
    await page.wait_for_url(re.compile(r"/check\?next="))
    await expect(page.locator("h1")).to_have_text(zh("check.title"))

    await page.goto(wait_url(base, topic="pc"))
    await journey_state(page, "waiting")
    await expect(page.locator("#wait-status")).to_contain_text(zh("wait.next"))
    await expect(page.locator("#sum-topic")).to_have_text(zh("topic.pc"))
    assert zh("wait.tab_title", n=1) in await page.title()
    # The language switch on a live page: no reload, the place and the socket stay.
    await page.click('a[data-lang="en"]')
    await expect(page.locator("#wait-status")).to_contain_text(en("wait.next"))
    await page.click('a[data-lang="zh-CN"]')
    await expect(page.locator("#wait-heading")).to_have_text(zh("wait.title"))
    await journey.shots.take(page, "journey-waiting-zh-CN")
    assert watch.errors == [], watch.errors


# ---- accessibility ----


async def test_axe_finds_no_serious_violation_on_start_and_waiting_pages(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away", languages=("CSL",))
    browser = await journey.browser()
    for viewport in (DESKTOP, PHONE):
        page, watch, context = await new_page(browser, viewport=viewport)
        for lang in ("en", "zh-CN"):
            await page.goto(f"{base}/?lang={lang}")
            await expect(page.locator('.choice[data-value="CSL"] .served')).not_to_be_empty()
            await axe_clean(page, f"start {lang} {viewport}")
        await page.click('.choice[data-value="ASL"]')  # the "not served" notice open
        await page.click("#go")  # and both "choose one" errors... the topic error shows
        await expect(page.locator("#topic-error")).to_be_visible()
        await axe_clean(page, f"start, errors {viewport}")
        await page.goto(wait_url(base))
        await journey_state(page, "waiting")
        await axe_clean(page, f"wait {viewport}")
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        if viewport == PHONE:
            await journey.shots.take(page, "journey-waiting-phone")
            leave = await page.locator("#leave").bounding_box()
            assert leave is not None and leave["height"] >= 44
        await page.click("#leave")
        await axe_clean(page, f"leave dialog {viewport}")
        await page.click("#leave-yes")
        await journey_state(page, "left")
        await axe_clean(page, f"left {viewport}")
        await page.goto(f"{base}/rate")  # no call to rate here: the "nothing" view
        await axe_clean(page, f"rate, nothing {viewport}")
        assert [e for e in watch.errors if "422" not in e] == [], watch.errors
        await context.close()


async def test_keyboard_alone_goes_from_start_through_the_check_to_the_queue(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(f"{base}/")

    async def tab_to(predicate: str, limit: int = 30) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
                return
        pytest.fail(f"Tab never reached {predicate}")

    await tab_to("el.name === 'language'")
    await page.keyboard.press("Space")  # the first card of the group
    await page.keyboard.press("ArrowRight")  # arrows move within the radio group, and select
    second = await page.evaluate("document.activeElement.value")
    await expect(page.locator(f'input[name="language"][value="{second}"]')).to_be_checked()
    ring = await page.evaluate("getComputedStyle(document.activeElement.closest('.choice')).outlineStyle")
    assert ring != "none"  # the focused card shows it
    await page.keyboard.press("ArrowLeft")
    await expect(page.locator('input[name="language"][value="CSL"]')).to_be_checked()
    await tab_to("el.name === 'topic'")
    await page.keyboard.press("Space")
    await tab_to("el.id === 'device-model'")
    await page.keyboard.type("Mate 60")
    await tab_to("el.id === 'go'")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/check\?"))
    await tab_to("el.id === 'start'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#check")).to_have_attribute("data-state", "passed", timeout=CHECK_MS)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "continue"
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/wait\?"))
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("1")
    # Leaving works by keyboard too; the dialog starts on the safe answer.
    await tab_to("el.id === 'leave'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#leave-no")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator("#leave-yes")).to_be_focused()
    await page.keyboard.press("Enter")
    await journey_state(page, "left")
    assert watch.errors == [], watch.errors


# ---- the call ----


async def frames_decoded(page: Page, video: str = "#remote") -> int:
    return int(
        await page.evaluate(f"document.querySelector('{video}').getVideoPlaybackQuality().totalVideoFrames")
    )


async def video_plays(page: Page, video: str = "#remote") -> None:
    """The element shows real frames: a size, and more frames decoded a moment later."""
    await expect(page.locator(video)).not_to_have_js_property("videoWidth", 0, timeout=WAIT_MS)
    first = await frames_decoded(page, video)
    await page.wait_for_function(
        "([sel, n]) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames > n",
        arg=[video, first],
        timeout=WAIT_MS,
    )


async def test_the_call_from_ready_to_rating(journey: Journey) -> None:
    base = await journey.start()
    agent = await journey.agents(base, status="available")
    browser = await journey.browser()
    page, watch, context = await new_page(browser, notifications=True)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    # Notifications: asked for with a button, never on page load.
    await expect(page.locator("#notify-button")).to_be_visible()
    assert await page.evaluate("[Notification.permission, window.__permissionRequests]") == ["default", 0]
    # What the customer answers to the prompt (the list replaces the granted set: keep the camera).
    await context.grant_permissions(["notifications", "camera"])
    await page.click("#notify-button")
    assert await page.evaluate("window.__permissionRequests") == 1
    await expect(page.locator("#notify-text")).to_have_text(en("wait.notify_on"))
    # The customer looks at another tab meanwhile.
    cdp = await context.new_cdp_session(page)
    await cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    other = await context.new_page()
    await other.goto(f"{base}/help")
    await other.bring_to_front()
    assert await page.evaluate("document.hasFocus()") is False

    await agent.accept_next_offer()
    # "Your agent is ready": banner, tab title, notification; no sound involved.
    await journey_state(page, "call")
    await expect(page.locator("#ready-banner")).to_be_visible()
    await expect(page.locator("#ready-text")).to_have_text(en("call.ready_banner", name="Ana Li"))
    await expect(page).to_have_title(re.compile(re.escape(en("call.ready_title"))))
    notes = await page.evaluate("window.__notifications")
    assert notes == [{"title": en("call.ready_title"), "body": en("call.ready_notification", name="Ana Li")}]
    flash = await page.evaluate(
        "(() => { const s = getComputedStyle(document.getElementById('ready-banner'));"
        " return [s.animationDuration, s.animationIterationCount]; })()"
    )
    assert float(flash[0].removesuffix("s")) >= 1 / 3 and float(flash[1]) <= 3  # <= 3 flashes a second
    assert await page.evaluate("document.querySelectorAll('audio').length") == 0
    await page.bring_to_front()

    # The call: the agent's video plays, large, in its place; the customer's video reaches the agent.
    await video_plays(page)
    await expect(page.locator("#call-state-text")).to_have_text(en("call.state_connected"))
    await expect(page.locator("#agent-name")).to_have_text(en("call.agent", name="Ana Li"))
    await agent.wait_until(lambda: agent.frames_received > 10)
    box = await page.locator("#remote-box").bounding_box()
    assert box is not None
    assert box["width"] * box["height"] >= DESKTOP["width"] * DESKTOP["height"] / 3
    self_box = await page.locator(".self").bounding_box()
    assert self_box is not None and self_box["width"] * self_box["height"] < box["width"] * box["height"] / 4
    # Signing keeps its frame rate: the camera says "motion", the sender "maintain-framerate".
    sender = await page.evaluate(
        """(() => {
            const sender = window.__pcs.at(-1).getSenders().find((s) => s.track);
            return {hint: sender.track.contentHint, live: sender.track.readyState,
                    preference: sender.getParameters().degradationPreference};
        })()"""
    )
    assert sender == {"hint": "motion", "live": "live", "preference": "maintain-framerate"}

    # Chat: sent and received look different; a sent message is marked delivered.
    await page.fill("#chat-text", "My screen is broken")
    await page.keyboard.press("Enter")
    mine = page.locator(".msg-out").last
    await expect(mine.locator(".msg-text")).to_have_text("My screen is broken")
    await expect(mine).to_have_attribute("data-status", "delivered")
    await expect(mine.locator(".msg-status")).to_have_text(en("call.msg_delivered"))
    chat = await agent.expect("chat")
    assert chat["text"] == "My screen is broken"
    await agent.chat("a-1", "I can see it. Please show me the back.")
    theirs = page.locator(".msg-in").last
    await expect(theirs.locator(".msg-text")).to_have_text("I can see it. Please show me the back.")
    await expect(theirs.locator(".msg-who")).to_have_text("Ana Li")
    await agent.expect("chat_ack", id="a-1")  # the page gave the agent its receipt
    colours = await page.evaluate(
        "[...document.querySelectorAll('.msg-out, .msg-in')].map((m) => getComputedStyle(m).backgroundColor)"
    )
    assert len(set(colours)) == 2
    await journey.shots.take(page, "journey-call")
    await axe_clean(page, "call")

    # The agent drops: the page says so, a message sent meanwhile is marked "not delivered".
    await agent.drop_socket()
    await expect(page.locator("#call-state-text")).to_have_text(en("call.state_peer_away", name="Ana Li"))
    await page.fill("#chat-text", "Are you there?")
    await page.click("#chat-send")
    failed = page.locator(".msg-out").last
    await expect(failed).to_have_attribute("data-status", "failed")
    await expect(failed.locator(".msg-status")).to_have_text(en("call.msg_failed"))
    await journey.shots.take(page, "journey-call-agent-away")
    await axe_clean(page, "call, message failed")
    seen = len(agent.seen)
    await agent.connect(pc="live")  # the same agent comes back to the same call
    await expect(page.locator("#call-state-text")).to_have_text(en("call.state_connected"), timeout=WAIT_MS)
    await failed.locator(".msg-retry").click()
    await expect(failed).to_have_attribute("data-status", "delivered")
    assert (await agent.expect("chat", after=seen))["text"] == "Are you there?"
    await video_plays(page)

    # The agent ends the call: the customer rates it.
    session_id = agent.session["session_id"] if agent.session else ""
    await agent.end_call()
    await page.wait_for_url(re.compile(r"/rate\?by=agent"), timeout=WAIT_MS)
    await expect(page.locator(".ended-note")).to_have_text(en("rate.ended_agent"))
    await axe_clean(page, "rate")
    await page.click("#rate-send")  # nothing chosen yet: said, not sent
    await expect(page.locator("#score-error")).to_be_visible()
    await page.click(".face-4")
    await page.fill("#comment", "Quick and clear")
    await journey.shots.take(page, "journey-rate")
    await page.click("#rate-send")
    await expect(page.locator("#thanks-title")).to_be_visible()
    await expect(page.locator("#thanks-title")).to_be_focused()
    await journey.shots.take(page, "journey-thanks")
    await axe_clean(page, "thanks")
    record = await SessionRecords(journey.redis, journey.settings.redis_prefix, 3600).get(session_id)
    assert (record.rating, record.rating_comment) == (4, "Quick and clear")
    assert await page.evaluate("localStorage.getItem('signlink.ticket')") is None
    assert watch.errors == [], watch.errors


async def test_phone_call_layout_reload_mid_call_and_ending_it(journey: Journey) -> None:
    base = await journey.start()
    agent = await journey.agents(base, status="available")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser, viewport=PHONE)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await agent.accept_next_offer()
    await journey_state(page, "call")
    await video_plays(page)
    screen = PHONE["width"] * PHONE["height"]
    remote = await page.locator("#remote-box").bounding_box()
    chat = await page.locator(".chat").bounding_box()
    bar = await page.locator("#end-call").bounding_box()
    assert remote is not None and chat is not None and bar is not None
    assert remote["width"] * remote["height"] >= screen / 3
    assert chat["y"] >= remote["y"] + remote["height"]  # the chat below the video on a phone
    assert bar["height"] >= 44
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.locator("#ready-ok").click()
    await journey.shots.take(page, "journey-call-phone")
    await axe_clean(page, "call, phone")

    # A reload mid-call: back to the same agent with a fresh peer, no new "ready" announcement.
    seen = len(agent.seen)
    await page.reload()
    await journey_state(page, "call")
    await expect(page.locator("#agent-name")).to_have_text(en("call.agent", name="Ana Li"))
    await expect(page.locator("#ready-banner")).to_be_hidden()
    await video_plays(page)
    rejoined = await agent.expect("peer", after=seen, state="rejoined")
    assert rejoined["pc"] == "new"

    # The customer ends the call, after saying yes.
    await page.click("#end-call")
    await expect(page.locator("#end-dialog")).to_be_visible()
    await journey.shots.take(page, "journey-end-confirm-phone")
    await page.click("#end-yes")
    await page.wait_for_url(re.compile(r"/rate\?by=customer"), timeout=WAIT_MS)
    assert (await agent.expect("ended"))["by"] == "customer"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await journey.shots.take(page, "journey-rate-phone")
    await axe_clean(page, "rate, phone")
    await page.click("#rate-skip")
    await page.wait_for_url(f"{base}/")
    assert await page.evaluate("localStorage.getItem('signlink.ticket')") is None
    assert watch.errors == [], watch.errors


async def test_a_server_restart_during_the_call_says_reconnecting_and_returns_to_the_same_agent(
    journey: Journey, restartable: Restartable
) -> None:
    base = await restartable.start()
    agent = await journey.agents(base, status="available")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await agent.accept_next_offer()
    await journey_state(page, "call")
    await video_plays(page)

    await restartable.stop()  # both sockets go; the call is held in Redis
    await expect(page.locator("#call-state")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
    await expect(page.locator("#call-state-text")).to_have_text(en("call.state_reconnecting"))
    await video_plays(page)  # the video is browser to agent: it goes on meanwhile
    await journey.shots.take(page, "journey-call-reconnecting")
    await restartable.start()
    await agent.connect(pc="live")  # the agent's side comes back too, with its peer
    await expect(page.locator("#call-state-text")).to_have_text(en("call.state_connected"), timeout=WAIT_MS)
    await expect(page.locator("#agent-name")).to_have_text(en("call.agent", name="Ana Li"))
    await page.fill("#chat-text", "Still there?")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg-out").last).to_have_attribute("data-status", "delivered")
    assert unexpected(watch) == [], watch.errors


async def test_a_transfer_brings_the_customer_back_to_the_waiting_room_with_a_note(journey: Journey) -> None:
    base = await journey.start()
    agent = await journey.agents(base, status="available")
    browser = await journey.browser()
    page, watch, _ = await new_page(browser)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await agent.accept_next_offer()
    await journey_state(page, "call")
    await agent.send({"type": "transfer", "language": "ASL", "topic": "pc"})
    await journey_state(page, "waiting")
    await expect(page.locator("#wait-note")).to_have_text(en("wait.transferred"))
    await expect(page.locator("#sum-language")).to_have_text(en("sl.ASL"))
    await expect(page.locator("#sum-topic")).to_have_text(en("topic.pc"))
    await expect(page.locator("#position")).to_have_text("1")
    assert (await stored_ticket(page))["language"] == "ASL"
    await journey.shots.take(page, "journey-transferred")
    assert watch.errors == [], watch.errors
