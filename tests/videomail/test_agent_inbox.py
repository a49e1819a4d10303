"""The agent console's video-mail inbox in real Chromium: a message recorded on /mail shows for an agent
of its sign language (not for one of another), plays in a dialog, and is marked handled with the
keyboard alone; it then leaves the inbox and QA counts it. axe on the console with the dialog open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from tests.support.browser import FakeCameras, Launch, PageWatch, Serve, run_axe
from tests.support.staff import PASSWORD, add_account
from tests.videomail.recording import record_and_send

pytestmark = pytest.mark.browser
HANDS_CLIP = "videos/pose_webcam_woman_wave_2s.mp4"


@pytest.fixture
def camera(fake_cameras: FakeCameras, media: Path) -> Path:
    return fake_cameras.make(media / HANDS_CLIP, seconds=2)


async def staff_page(browser: Browser, base: str, username: str, locale: str = "en") -> Page:
    page = await (await browser.new_context(locale=locale)).new_page()
    await page.goto(f"{base}/login?lang={locale}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/(agent|qa).*"))
    return page


async def test_agent_watches_a_video_message_and_marks_it_handled_by_keyboard(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis, camera: Path
) -> None:
    base = await serve(settings)
    browser = await launch(camera)
    customer = await (await browser.new_context(locale="zh-CN")).new_page()
    reference = await record_and_send(
        customer, base, "language=CSL&topic=phone&device_model=Mate%2060&reason=closed&lang=zh-CN"
    )
    await add_account(settings, redis, "bob", role=Role.AGENT, languages=("ASL",))
    other = await staff_page(browser, base, "bob")
    await expect(other.locator("#inbox-empty")).to_be_visible()  # another sign language: nothing
    await expect(other.locator("#inbox-list li")).to_have_count(0)

    await add_account(settings, redis, "ana", role=Role.AGENT, languages=("CSL",))
    agent = await staff_page(browser, base, "ana")
    watch = PageWatch.attach(agent)
    item = agent.locator(f'.inbox-item[data-id="{reference}"]')
    await expect(item).to_contain_text("CSL")
    await expect(item).to_contain_text("new")
    assert await run_axe(agent) == []

    await item.focus()
    await agent.keyboard.press("Enter")
    dialog = agent.locator("#mail-dialog")
    await expect(dialog).to_be_visible()
    await expect(agent.locator("#mail-model")).to_have_text("Mate 60")
    await expect(agent.locator("#mail-reason")).to_have_text("the line was closed")
    # The recording really plays: the browser decodes frames of it from the staff endpoint.
    await agent.wait_for_function(
        "document.getElementById('mail-video').readyState >= 2"
        " && document.getElementById('mail-video').videoWidth > 0"
    )
    assert await run_axe(agent) == []

    await agent.locator("#mail-handled").focus()
    await agent.keyboard.press("Enter")
    await expect(agent.locator("#mail-handle-error")).to_have_text("Choose an outcome first.")
    assert await agent.evaluate("document.activeElement.id") == "mail-outcome"
    await agent.keyboard.press("ArrowDown")  # the first outcome
    await expect(agent.locator("#mail-outcome")).to_have_value("answered_by_mail")
    await agent.keyboard.press("Tab")
    assert await agent.evaluate("document.activeElement.id") == "mail-handled"
    await agent.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(agent.locator("#announce-polite")).to_have_text("The video message is marked handled.")
    await expect(item).to_have_count(0)
    await expect(agent.locator("#inbox-empty")).to_be_visible()
    assert watch.errors == []

    await add_account(settings, redis, "quinn", role=Role.QA)
    qa = await staff_page(browser, base, "quinn")
    summary = await (await qa.request.get(f"{base}/api/qa/video-mail?days=1")).json()
    assert summary["sent"] == 1 and summary["handled"] == 1 and summary["waiting"] == 0
    assert summary["outcomes"] == {"answered_by_mail": 1}
