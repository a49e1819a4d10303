"""A real call, then the QA dashboard: the records a real flow leaves (camera check, queue, offer,
call, private note, wrap-up, rating) appear on the session list, the ticket's page, the overview and
in the CSV export. Two browsers make the call (tests/support/e2e.py), a third is the QA person."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from playwright.async_api import Page, expect

from signlink.web import i18n
from tests.support.browser import PageWatch, run_axe
from tests.support.e2e import AGENT_REMOTE, CALL_MS, CUSTOMER_REMOTE, Rig, expect_video_flowing, rig
from tests.support.qa_seed import add_qa
from tests.support.staff import PASSWORD, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
__all__ = ["rig"]

NOTE = "Customer uses a third-party charger"
WRAP_NOTES = "Charger replaced under warranty"
COMMENT = "Clear video, thank you"
# The wrap-up and the rating reach the list's row when the recorder follows the ended call up
# (records/recorder.py: first look 15 s after the end, then every 5 s).
RECORDED_S = 90.0


async def qa_login(page: Page, base: str) -> None:
    await page.goto(f"{base}/login?next=/qa/sessions")
    await page.fill("#username", "quinn")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/qa/sessions$"))


async def reload_until(page: Page, url: str, ready: str) -> None:
    """Open `url` again until `ready` (a CSS selector) is on it: records arrive after the events."""
    deadline = time.monotonic() + RECORDED_S
    while True:
        await page.goto(url)
        if await page.locator(ready).count():
            return
        assert time.monotonic() < deadline, f"{ready} never appeared on {url}"
        await page.wait_for_timeout(2000)


async def expect_measurements_in_words(page: Page, locale: str) -> None:
    """The real check's measurements and criteria: labels and units in the page's language, no code."""
    await page.click("#check details.qa-more summary")
    metrics = page.locator("#check .qa-metrics")
    await expect(metrics).to_be_visible()
    text = await page.locator("#check").inner_text()
    assert re.findall(r"\b[a-z]+_[a-z_]+\b|\bluma\b", text) == [], text
    for key in ("qa.metric.hand_share", "qa.metric.fps", "qa.metric.luma"):
        await expect(metrics).to_contain_text(i18n.translate(locale, key))
    for unit in ("qa.unit.fps", "qa.unit.px"):
        await expect(metrics).to_contain_text(i18n.translate(locale, unit))
    await expect(metrics).to_contain_text("/ 255")
    await expect(page.locator("#check-criteria")).to_contain_text(i18n.translate(locale, "qa.unit.fps"))
    assert await run_axe(page) == []


async def test_a_real_call_shows_on_the_dashboard_and_in_the_csv(rig: Rig) -> None:
    await add_account(
        rig.settings, rig.redis, "ana", display_name="Ana Li", languages=("CSL",), topics=("phone",)
    )
    await add_qa(rig.settings, rig.redis)
    base = await rig.serve(rig.settings)

    # The call: check passed, wait, offer, accept, video both ways, a private note, end, wrap-up, rating.
    agent = await rig.agent(base)
    await agent.available()
    customer = await rig.customer(base)
    await customer.start_with_check("CSL", "phone", device_model="Mate 60 Pro")
    await customer.wait_state("waiting")
    await customer.camera_on()
    await agent.accept()
    await customer.wait_state("call")
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    console = agent.page
    await console.click("#notes summary")
    await console.fill("#note-input", NOTE)
    await console.click("#note-save")
    await expect(console.locator("#note-list")).to_contain_text(NOTE, timeout=CALL_MS)
    await console.click("#end-call")
    await agent.wrap_up("resolved", WRAP_NOTES)
    await customer.page.wait_for_url("**/rate?**", timeout=CALL_MS)
    await customer.page.check('input[name="score"][value="4"]')
    await customer.page.fill("#comment", COMMENT)
    await customer.page.click("#rate-send")
    await expect(customer.page.locator("#thanks-title")).to_be_visible(timeout=CALL_MS)

    # The QA person: the list (default period, the last 7 days) has the one ticket, rated.
    browser = await rig.launch(None, grant_camera=False)
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = await context.new_page()
    watch = PageWatch.attach(page)
    await qa_login(page, base)
    await reload_until(page, f"{base}/qa/sessions", '#sessions-table td:has-text("4 / 5")')
    rows = page.locator("#sessions-table tbody tr")
    await expect(rows).to_have_count(1)
    row = rows.first
    ticket_id = await row.get_attribute("data-ticket")
    assert ticket_id
    for text in ("CSL", "Mobile phone", "Ana Li", "Answered", "Passed", "4 / 5"):
        await expect(row).to_contain_text(text)

    # The ticket's page: the whole story in order, the check's measurements, the agent's words.
    await row.locator("th a").click()
    await page.wait_for_url(re.compile(rf"/qa/sessions/{re.escape(ticket_id)}$"))
    events = await page.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.event)")
    story = ["checked", "joined", "offered", "offer_accepted", "connected", "ended", "wrapped_up", "rated"]
    assert [e for e in events if e in story] == story, events
    await expect(page.locator("#facts")).to_contain_text("Ana Li")
    await expect(page.locator(".qa-verdict")).to_have_attribute("data-passed", "true")
    assert await page.locator("#check-criteria tbody tr").count() >= 5
    await expect(page.locator('#check-criteria tr[data-status="pass"]').first).to_be_visible()
    await expect(page.locator(".qa-wrap-notes")).to_have_text(WRAP_NOTES)
    await expect(page.locator(".qa-notes")).to_contain_text(NOTE)
    await expect(page.locator(".qa-rating")).to_have_text("4 / 5")
    await expect(page.locator(".qa-rating-comment")).to_have_text(COMMENT)
    await expect(page.locator("#timeline")).to_contain_text("Mate 60 Pro")
    # Metadata only: the chat of the call is nowhere in the record.
    assert await run_axe(page) == []
    await expect_measurements_in_words(page, "en")
    session_url = page.url
    await page.goto(f"{session_url}?lang=zh-CN")
    await expect_measurements_in_words(page, "zh-CN")
    await page.goto(f"{session_url}?lang=en")  # the choice is kept in a cookie: back to English

    # The overview counts it, and the agent.
    await page.goto(f"{base}/qa")
    await expect(page.locator("#counts")).to_contain_text("1 customer: 1 answered, 0 left before an answer")
    await expect(page.locator('#agents-table tr[data-agent="ana"]')).to_contain_text("Ana Li")
    await expect(page.locator('#agents-table tr[data-agent="ana"] td').first).to_have_text("1")
    await expect(page.locator("#figures")).to_contain_text("4.0")

    # The CSV of the list holds the same row.
    await page.goto(f"{base}/qa/sessions?outcome=answered")
    async with page.expect_download() as info:
        await page.click("#csv-link")
    download = await info.value
    records = list(csv.DictReader(io.StringIO((await download.path()).read_text("utf-8"))))
    assert len(records) == 1
    record = records[0]
    assert record["ticket_id"] == ticket_id
    assert (record["language"], record["topic"], record["agent_id"]) == ("CSL", "phone", "ana")
    assert (record["outcome"], record["check"], record["rating"]) == ("answered", "passed", "4")
    assert float(record["waited_s"]) >= 0 and float(record["handle_s"]) > 0
    assert watch.errors == [], watch.errors
    await context.close()
