"""The call view as people use it, in real Chromium: the signer's video never moves once shown, the
call state, End call and the chat input stay in view while typing (1280x800 and 390x844, English and
Chinese), the video tools work and are remembered, the typing indicator goes both ways, and the live
quality hint appears when the link degrades (a 5 fps camera) on both sides.

The customer-side tests meet a ScriptedAgent (test_customer_journey.py's kit: one browser); the
two-side test runs the real console and the real customer page (tests/support/e2e.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

from signlink.web import i18n
from tests.browser.test_customer_journey import (
    Journey,
    agent_clip,
    agents,
    axe_clean,
    hands_camera,
    journey,
    journey_state,
    new_page,
    shots,
    unexpected,
    video_plays,
    wait_url,
    waiters,
)
from tests.support.browser import CAMERA_HEIGHT, CAMERA_WIDTH, run_axe
from tests.support.e2e import (
    AGENT_REMOTE,
    CALL_MS,
    CUSTOMER_CLIP,
    GRANTED,
    CustomerSide,
    Rig,
    expect_video_flowing,
    rig,
)
from tests.support.staff import add_account

__all__ = ["agent_clip", "agents", "hands_camera", "journey", "rig", "shots", "waiters"]

pytestmark = pytest.mark.browser

DESK: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 20_000

# Every element's box, and whether the page itself scrolls.
GEOMETRY = """
(ids) => {
  const out = { scroll: document.scrollingElement.scrollHeight - window.innerHeight,
                width: window.innerWidth, height: window.innerHeight };
  for (const id of ids) {
    const r = document.getElementById(id).getBoundingClientRect();
    out[id] = { x: r.x, y: r.y, w: r.width, h: r.height };
  }
  return out;
}
"""
IN_VIEW = ("remote-box", "call-state", "end-call", "chat-text")


async def geometry(page: Page, ids: tuple[str, ...] = IN_VIEW) -> dict[str, Any]:
    data: dict[str, Any] = await page.evaluate(GEOMETRY, list(ids))
    return data


def assert_in_view(geo: dict[str, Any], ids: tuple[str, ...] = IN_VIEW) -> None:
    """Each element wholly inside the window, and the page not scrolled or scrollable."""
    assert geo["scroll"] <= 0, f"the page scrolls by {geo['scroll']} px"
    for name in ids:
        box = geo[name]
        assert box["w"] > 0 and box["h"] > 0, f"{name} is not shown"
        assert box["x"] >= 0 and box["y"] >= 0, f"{name} starts outside the window: {box}"
        assert box["x"] + box["w"] <= geo["width"] + 0.5, f"{name} goes past the right edge: {box}"
        assert box["y"] + box["h"] <= geo["height"] + 0.5, f"{name} goes below the window: {box}"


def same_box(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(abs(a[k] - b[k]) < 0.5 for k in ("x", "y", "w", "h"))


def low_fps_camera(tmp: Path, media: Path, fps: int = 5) -> Path:
    """The hands clip at `fps` frames a second: Chromium's fake camera then sends only that many."""
    out = tmp / f"hands-{fps}fps.y4m"
    if not out.exists():
        vf = f"scale={CAMERA_WIDTH}:{CAMERA_HEIGHT},setsar=1,fps={fps}"
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(media / CUSTOMER_CLIP), "-t", "2", "-an"]
        subprocess.run([*cmd, "-vf", vf, "-pix_fmt", "yuv420p", str(out)], check=True, timeout=120)
    return out


@pytest.mark.parametrize(
    ("viewport", "lang"),
    [(DESK, "en"), (DESK, "zh-CN"), (PHONE, "en"), (PHONE, "zh-CN")],
    ids=["desk-en", "desk-zh", "phone-en", "phone-zh"],
)
async def test_the_agents_video_never_moves_and_state_end_and_chat_stay_in_view(
    journey: Journey, viewport: ViewportSize, lang: str
) -> None:
    base = await journey.start()
    agent = await journey.agents(base, status="available")
    page, watch, _ = await new_page(await journey.browser(), viewport=viewport)
    await page.goto(wait_url(base) + f"&lang={lang}")
    await journey_state(page, "waiting")
    await agent.accept_next_offer()
    await journey_state(page, "call")
    await video_plays(page)
    await expect(page.locator("#ready-banner")).to_be_visible()
    shown = await geometry(page)
    assert_in_view(shown)
    area = shown["remote-box"]["w"] * shown["remote-box"]["h"]
    assert area >= viewport["width"] * viewport["height"] / 4, "the agent's video is too small"
    assert await run_axe(page) == [], "call with the ready banner"

    # The agent writes: the typing line shows, the video stays where it is.
    seen = len(agent.seen)
    await agent.send({"type": "typing", "active": True})
    typing = page.locator("#typing-text")
    await expect(typing).to_be_visible()
    await expect(typing).to_have_text(i18n.translate(lang, "typing.agent", name="Ana Li"))
    assert same_box((await geometry(page))["remote-box"], shown["remote-box"])

    # The customer types (keyboard, in the chat box): state, End call and the input stay in view,
    # and the agent is told that the customer is writing.
    await page.locator("#chat-text").focus()
    await page.keyboard.type("my phone screen is cracked")
    assert (await agent.expect("typing", after=seen, active=True))["active"] is True
    while_typing = await geometry(page)
    assert_in_view(while_typing)
    assert same_box(while_typing["remote-box"], shown["remote-box"])
    await page.keyboard.press("Enter")
    assert (await agent.expect("typing", after=seen, active=False))["active"] is False
    await agent.expect("chat", after=seen)

    # The banner goes, a message arrives (typing line hides), the quality hint settles: no move.
    await page.locator("#ready-ok").click()
    await expect(page.locator("#ready-banner")).to_be_hidden()
    await agent.chat("a-1", "请给我看背面" if lang == "zh-CN" else "Please show me the back")
    await expect(typing).to_be_hidden()
    await expect(page.locator("#quality")).not_to_have_attribute("data-level", "unknown", timeout=WAIT_MS)
    after = await geometry(page)
    assert_in_view(after)
    assert same_box(after["remote-box"], shown["remote-box"])
    await axe_clean(page, f"call {lang} {viewport['width']}")
    await journey.shots.take(page, f"call-view-{viewport['width']}-{lang}")
    assert unexpected(watch) == [], watch.errors


async def test_video_tools_enlarge_full_screen_pip_and_self_view_are_remembered(journey: Journey) -> None:
    base = await journey.start()
    agent = await journey.agents(base, status="available")
    page, watch, _ = await new_page(await journey.browser(), viewport=DESK)
    await page.goto(wait_url(base))
    await agent.accept_next_offer()
    await journey_state(page, "call")
    await video_plays(page)
    before = (await geometry(page))["remote-box"]

    # Enlarge: the video's box grows (the site header goes, the chat column narrows).
    await page.click("#tool-enlarge")
    await expect(page.locator("#tool-enlarge")).to_have_attribute("aria-pressed", "true")
    enlarged = (await geometry(page))["remote-box"]
    assert enlarged["w"] * enlarged["h"] > before["w"] * before["h"] * 1.1
    assert_in_view(await geometry(page))

    # Hide and move the self view.
    await page.click("#tool-move")
    await expect(page.locator(".call")).to_have_attribute("data-self-side", "end")
    await page.click("#tool-self")
    await expect(page.locator(".video-tools .self")).to_be_hidden()
    await expect(page.locator("#tool-move")).to_be_disabled()

    # Full screen: the video's box, and back.
    await page.click("#tool-fullscreen")
    await page.wait_for_function("document.fullscreenElement?.id === 'remote-box'", timeout=WAIT_MS)
    await page.evaluate("document.exitFullscreen()")
    await page.wait_for_function("document.fullscreenElement === null", timeout=WAIT_MS)

    # Picture-in-picture: the agent's video (stays in view while the customer looks at another tab).
    await page.click("#tool-pip")
    await page.wait_for_function("document.pictureInPictureElement?.id === 'remote'", timeout=WAIT_MS)
    await expect(page.locator("#tool-pip")).to_have_attribute("aria-pressed", "true")
    await page.click("#tool-pip")
    await page.wait_for_function("document.pictureInPictureElement === null", timeout=WAIT_MS)

    # The choices are remembered: after a reload the video is still enlarged, the self view hidden.
    await page.reload()
    await journey_state(page, "call")
    await expect(page.locator("#tool-enlarge")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#tool-self")).to_have_attribute("aria-pressed", "false")
    await expect(page.locator(".video-tools .self")).to_be_hidden()
    await axe_clean(page, "call, enlarged, self view hidden")
    assert unexpected(watch) == [], watch.errors


async def test_both_sides_see_a_degraded_link_and_each_others_typing(
    rig: Rig, media: Path, tmp_path: Path
) -> None:
    """A customer camera at 5 fps: the customer is told their video is jerky, the agent that the
    customer's video is freezing; typing and a ready-made prompt go across; the console's video,
    End call and chat input are in view at 1280x800 and the video does not move."""
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base, viewport=DESK)
    browser = await rig.launch(low_fps_camera(tmp_path, media))
    customer = await CustomerSide.open(browser, base, permissions=GRANTED, viewport=DESK)
    await customer.join_without_check("CSL", "phone")
    await customer.wait_state("waiting")
    await customer.camera_on()
    await agent.available()
    await agent.accept()
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    ids = ("remote-box", "peer-state", "end-call", "chat-input")
    shown = await geometry(agent.page, ids)
    assert_in_view(shown, ids)

    # The quality hint on both sides, in words (not only colour), from the browsers' own stats.
    await expect(agent.page.locator("#quality")).to_have_attribute(
        "data-key", "quality.peer_freezing.customer", timeout=CALL_MS
    )
    await expect(agent.page.locator("#quality-text")).to_have_text(
        i18n.translate("en", "quality.peer_freezing.customer")
    )
    await expect(customer.page.locator("#quality")).to_have_attribute(
        "data-key", "quality.mine_camera", timeout=CALL_MS
    )
    assert await agent.page.locator("#quality").get_attribute("data-level") == "poor"

    # Typing, both ways.
    await customer.page.locator("#chat-text").fill("")
    await customer.page.locator("#chat-text").press_sequentially("hello")
    await expect(agent.page.locator("#typing-text")).to_have_text(i18n.translate("en", "typing.customer"))
    await agent.page.locator("#chat-input").press_sequentially("one moment")
    await expect(customer.page.locator("#typing-text")).to_be_visible()
    assert same_box((await geometry(agent.page, ids))["remote-box"], shown["remote-box"])

    # A ready-made prompt, in Chinese for this customer: it arrives as a chat message.
    await agent.page.click("#prompts summary")
    await agent.page.select_option("#prompt-lang", "zh-CN")
    await agent.page.click('button[data-prompt="move_back"]')
    await expect(customer.page.locator("#chat-log .msg-in .msg-text")).to_have_text(
        i18n.translate("zh-CN", "prompt.move_back")
    )
    await expect(agent.page.locator('#chat-log .msg[data-status="delivered"]')).to_have_count(1)

    # The console's video tools: full screen and picture-in-picture on the customer's video.
    await agent.page.click("#tool-fullscreen")
    await agent.page.wait_for_function("document.fullscreenElement?.id === 'remote-box'", timeout=CALL_MS)
    await agent.page.evaluate("document.exitFullscreen()")
    await agent.page.click("#tool-pip")
    await agent.page.wait_for_function(
        "document.pictureInPictureElement?.id === 'remote-video'", timeout=CALL_MS
    )
    await agent.page.evaluate("document.exitPictureInPicture()")
    after = await geometry(agent.page, ids)
    assert_in_view(after, ids)
    assert same_box(after["remote-box"], shown["remote-box"])
    assert await run_axe(agent.page) == [], "console call with hints"
    assert agent.watch.errors == [] and customer.watch.errors == []


@pytest.mark.parametrize(
    "viewport", [DESK, PHONE, {"width": 800, "height": 500}], ids=["desk", "phone", "short"]
)
async def test_an_offer_keeps_countdown_device_and_check_in_view_and_the_queue_card_live(
    rig: Rig, waiters: Any, viewport: ViewportSize
) -> None:
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base, viewport=viewport)
    await agent.available()
    waiter = await waiters(base)
    await waiter.join("CSL", "phone")
    await agent.wait_offer()
    page = agent.page
    await page.locator("#accept").focus()  # the offer takes the focus there itself; again, to scroll
    ids = ("countdown-num", "offer-model", "offer-check", "accept")
    assert_in_view(await geometry(page, ids) | {"scroll": 0}, ids)
    # The queue card while ringing: this agent counted as ringing at once, not as available.
    await expect(page.locator("#q-agents-on_offer")).to_have_text("1")
    await expect(page.locator("#q-agents-available")).to_have_text("0")
    assert await run_axe(page) == [], f"offer at {viewport}"
