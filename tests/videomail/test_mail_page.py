"""The video-message page in real Chromium with a fake camera: record with the keyboard alone, the
countdown stops the recording at the limit, review, send in chunks, a confirmation that stays; what the
page calls sent is in the database byte for byte; an oversize recording gets a clear error in Chinese
and nothing is sent. axe on every state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from tests.support.browser import FakeCameras, Launch, PageWatch, Serve, run_axe
from tests.support.staff import PASSWORD, add_account

pytestmark = pytest.mark.browser
HANDS_CLIP = "videos/pose_webcam_woman_wave_2s.mp4"
EBML = b"\x1a\x45\xdf\xa3"


@pytest.fixture
def camera(fake_cameras: FakeCameras, media: Path) -> Path:
    return fake_cameras.make(media / HANDS_CLIP, seconds=2)


async def tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


async def focused(page: Page) -> str:
    value: str = await page.evaluate("document.activeElement && document.activeElement.id")
    return value


async def test_record_by_keyboard_stops_at_the_limit_and_what_is_sent_is_stored(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis, camera: Path
) -> None:
    base = await serve(settings.replace(video_mail_max_s=4))
    browser = await launch(camera)
    page = await (await browser.new_context(locale="en")).new_page()
    watch = PageWatch.attach(page)
    await page.goto(f"{base}/mail?language=CSL&topic=phone&device_model=Mate%2060&lang=en")
    await expect(page.locator("#mail-language")).to_have_value("CSL")  # asked once, on the start page
    await expect(page.locator("#mail-device-model")).to_have_value("Mate 60")
    await expect(page.locator("#countdown")).to_have_text("0:04")
    assert await run_axe(page) == []

    await tab_to(page, "mail-email")
    await page.keyboard.type("li@example.com")
    await tab_to(page, "camera-on")
    await page.keyboard.press("Enter")
    await expect(page.locator("#rec-status")).to_contain_text("The camera is on")
    assert await focused(page) == "record"
    await page.keyboard.press("Enter")
    await expect(page.locator("#rec-badge")).to_be_visible()
    await expect(page.locator("#rec-status")).to_contain_text("You have 4 seconds")
    assert await focused(page) == "stop"
    assert await run_axe(page) == []
    # Nobody presses Stop: the countdown reaches 0:00 and the recording ends by itself.
    await expect(page.locator("#rec-status")).to_contain_text("Time is up", timeout=20_000)
    await expect(page.locator("#countdown")).to_have_text("0:00")
    await expect(page.locator("#rec-badge")).to_be_hidden()
    await expect(page.locator("#review")).to_be_visible()
    assert await focused(page) == "send"
    assert await run_axe(page) == []

    await page.keyboard.press("Enter")
    await expect(page.locator("#sent")).to_be_visible(timeout=20_000)
    await expect(page.locator("#mail-form")).to_be_hidden()
    assert await focused(page) == "sent-heading"
    await expect(page.locator("#sent-next")).to_contain_text("li@example.com")
    reference = (await page.locator("#sent-ref").text_content() or "").strip()
    assert re.fullmatch(r"vm_[A-Za-z0-9_-]+", reference)
    assert await run_axe(page) == []
    assert watch.errors == []

    # An agent of CSL finds exactly that message, with the details and the whole video.
    await add_account(settings, redis, "ana", role=Role.AGENT, languages=("CSL",))
    staff = await (await browser.new_context()).new_page()
    await staff.goto(f"{base}/login")
    await staff.fill("#username", "ana")
    await staff.fill("#password", PASSWORD)
    await staff.keyboard.press("Enter")
    await staff.wait_for_url(re.compile(r".*/agent"))
    inbox = await (await staff.request.get(f"{base}/api/staff/video-mail")).json()
    [mail] = inbox["messages"]
    assert mail["id"] == reference and mail["state"] == "sent" and mail["has_email"] is True
    assert (mail["language"], mail["topic"], mail["device_model"]) == ("CSL", "phone", "Mate 60")
    assert mail["mime"] == "video/webm" and 3.0 <= mail["duration_s"] <= 4.0
    video = await (await staff.request.get(f"{base}{mail['video_url']}")).body()
    assert len(video) == mail["size"] > 10_000 and video.startswith(EBML)


async def test_oversize_recording_gets_a_clear_error_in_chinese_and_nothing_is_sent(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis, camera: Path
) -> None:
    base = await serve(settings.replace(video_mail_max_bytes=2_000))
    browser = await launch(camera)
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    watch = PageWatch.attach(page)
    await page.goto(f"{base}/mail?language=CSL&topic=phone&lang=zh-CN")
    await expect(page.locator("#mail-intro")).to_contain_text("最长 90 秒")
    await page.locator("#camera-on").click()
    await expect(page.locator("#rec-status")).to_contain_text("摄像头已打开")
    await page.locator("#record").click()
    await expect(page.locator("#rec-status")).to_contain_text("正在录制")
    await expect(page.locator("#countdown")).to_have_text("1:28", timeout=10_000)  # it counts down
    await page.locator("#stop").click()
    await expect(page.locator("#rec-status")).to_contain_text("录制已停止")
    await page.locator("#send").click()
    await expect(page.locator("#mail-error")).to_contain_text("录像太大")
    await expect(page.locator("#sent")).to_be_hidden()
    await expect(page.locator("#again")).to_be_visible()  # the way on: a shorter recording
    assert await run_axe(page) == []
    # The browser logs the refused announce itself; nothing else may fail on the page.
    assert [e for e in watch.errors if "status of 413" not in e] == []
    assert len(watch.errors) == 1
    await add_account(settings, redis, "sam", role=Role.SUPERVISOR)
    staff = await (await browser.new_context()).new_page()
    await staff.goto(f"{base}/login")
    await staff.fill("#username", "sam")
    await staff.fill("#password", PASSWORD)
    await staff.keyboard.press("Enter")
    await staff.wait_for_url(re.compile(r".*/(agent|qa|staff).*"))
    answer = await staff.request.get(f"{base}/api/staff/video-mail")
    assert answer.status == 200, await answer.text()
    inbox = await answer.json()
    assert inbox["messages"] == []
