"""Record and send a video message through the real /mail page (shared by the page and inbox tests)."""

from __future__ import annotations

from playwright.async_api import Page, expect


async def record_and_send(page: Page, base: str, query: str, *, seconds: float = 2.5) -> str:
    """Open /mail?query, record about `seconds`, send; the reference the page confirms."""
    await page.goto(f"{base}/mail?{query}")
    await page.locator("#camera-on").click()
    await expect(page.locator("#record")).to_be_visible()
    await page.locator("#record").click()
    await expect(page.locator("#rec-badge")).to_be_visible()
    await page.wait_for_timeout(seconds * 1000)  # a recording needs time to have frames in it
    await page.locator("#stop").click()
    await expect(page.locator("#review")).to_be_visible()
    await page.locator("#send").click()
    await expect(page.locator("#sent")).to_be_visible(timeout=20_000)
    return (await page.locator("#sent-ref").text_content() or "").strip()
