"""Opening hours in real Chromium: a supervisor forces a line closed with the keyboard alone; the start
page then says at once, in English and Chinese, when it opens and what to do now; axe on each state."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from tests.support.browser import Launch, PageWatch, Serve, run_axe
from tests.support.staff import PASSWORD, add_account

pytestmark = pytest.mark.browser


async def tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


async def test_force_close_by_keyboard_then_the_start_page_says_when_it_opens(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis, "sam", role=Role.SUPERVISOR, display_name="Sam")
    base = await serve(settings.replace(hours_cache_s=0.0))
    browser = await launch(None)
    staff = await (await browser.new_context()).new_page()
    watch = PageWatch.attach(staff)
    await staff.goto(f"{base}/login?next=/staff/hours%3Flanguage%3DCSL")
    await staff.fill("#username", "sam")
    await staff.fill("#password", PASSWORD)
    await staff.keyboard.press("Enter")
    await staff.wait_for_url(f"{base}/staff/hours?language=CSL")
    assert await run_axe(staff) == []

    # Keyboard only: the week in Shanghai time, Monday to Friday 09:00-18:00 (weekend closed).
    await tab_to(staff, "time-zone")
    await staff.keyboard.press("Control+A")
    await staff.keyboard.type("Asia/Shanghai")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await staff.keyboard.press("Tab")
        assert await staff.evaluate("document.activeElement.id") == f"day-{day}"
        await staff.keyboard.press("Control+A")
        await staff.keyboard.type("" if day in ("sat", "sun") else "09:00-18:00")
    await staff.keyboard.press("Tab")
    await staff.keyboard.press("Enter")
    await expect(staff.locator("#saved")).to_be_visible()
    # Then force it closed until a set time (the date-time picker's own segments filled directly).
    monday = date.today() + timedelta(days=28 + (7 - date.today().weekday()) % 7)
    await staff.fill("#force-until", f"{monday.isoformat()}T09:00")
    await staff.focus("#force-until")
    await tab_to(staff, "force-reason")
    await staff.keyboard.type("Team training")
    await staff.keyboard.press("Enter")
    await expect(staff.locator("#force-now")).to_contain_text("Team training")
    await expect(staff.locator("#line-status")).to_contain_text("Closed now")
    assert await run_axe(staff) == []
    assert watch.errors == []

    for lang, closed_words, mail_words in (
        ("en", "agents are closed now", "Leave a video message"),
        ("zh-CN", "现在不在服务时间", "视频留言"),
    ):
        context = await browser.new_context(locale=lang, timezone_id="Europe/London")
        page = await context.new_page()
        await page.goto(f"{base}/?lang={lang}")
        await page.locator('label.choice-language[data-value="CSL"]').click()
        notice = page.locator("#hours-notice")
        await expect(notice).to_contain_text(closed_words)
        # 09:00 in Shanghai that Monday is 01:00 or 02:00 in London, shown in the customer's zone.
        await expect(notice).to_contain_text(re.compile("0[12]:00"))
        await expect(page.locator("#hours-mail-link")).to_contain_text(mail_words)
        assert await run_axe(page) == []
        await page.locator('label.choice-topic[data-value="phone"]').click()
        await page.locator("#go").click()
        await expect(page).to_have_url(f"{base}/?lang={lang}")  # Continue stays: the line is closed
        # The way on: the video-message page, with what was chosen and typed here already filled in.
        await page.fill("#device-model", "Mate 60")
        await page.locator("#hours-mail-link").click()
        await expect(page).to_have_url(re.compile(r"/mail\?.*language=CSL"))
        await expect(page.locator("#mail-topic")).to_have_value("phone")
        await expect(page.locator("#mail-device-model")).to_have_value("Mate 60")
        await context.close()
