"""The staff login page in real Chromium: keyboard only, errors announced, axe-clean, HttpOnly cookie."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.web.auth import COOKIE
from tests.support.browser import Launch, PageWatch, Serve, run_axe
from tests.support.staff import PASSWORD, add_account

pytestmark = pytest.mark.browser


async def tab_to(page: Page, element_id: str, limit: int = 15) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


async def test_login_and_logout_with_the_keyboard_alone(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis, display_name="Ana <Li>")
    base = await serve(settings)
    browser = await launch(None)
    context = await browser.new_context()
    page = await context.new_page()
    watch = PageWatch.attach(page)
    await page.goto(f"{base}/login?next=/help")
    assert await run_axe(page) == []

    # A wrong password first: the error is announced and the username field holds the focus.
    await tab_to(page, "username")
    await page.keyboard.type("ana")
    await page.keyboard.press("Tab")
    await page.keyboard.type("not the password")
    await page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("Wrong username or password. Please try again.")
    assert (await page.title()).startswith("Error")
    assert await page.evaluate("document.activeElement.id") == "username"
    await expect(page.locator("#username")).to_have_value("ana")
    await expect(page.get_by_label("Password")).to_have_attribute("aria-describedby", "login-error")
    assert await run_axe(page) == []

    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/help")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies[COOKIE]["httpOnly"] and cookies[COOKIE]["sameSite"] == "Strict"
    assert COOKIE not in await page.evaluate("document.cookie")  # scripts cannot read it

    await page.goto(f"{base}/login")
    await expect(page.get_by_text("You are logged in as Ana <Li>.")).to_be_visible()
    assert await run_axe(page) == []
    await tab_to(page, "logout")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/login")
    await expect(page.locator("#username")).to_be_visible()
    assert COOKIE not in {c["name"] for c in await context.cookies()}
    # The wrong password's page came with status 401, which Chromium logs; nothing else may appear.
    assert [e for e in watch.errors if "status of 401" not in e] == []


async def test_login_page_in_chinese_is_axe_clean(launch: Launch, serve: Serve, settings: Settings) -> None:
    base = await serve(settings)
    browser = await launch(None)
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/login?lang=zh-CN")
    await expect(page.get_by_label("用户名")).to_be_visible()
    await expect(page.get_by_label("密码")).to_be_visible()
    assert await run_axe(page) == []
