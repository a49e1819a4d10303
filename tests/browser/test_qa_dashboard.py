"""The QA dashboard in real Chromium against the real app and records: charts drawn without console
errors, axe-clean pages, filters, the CSV download, the session page, the live view updating itself."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Dialog, Page, expect
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.queue.models import EndedBy, JoinRequest
from signlink.queue.store import QueueStore
from signlink.web import i18n
from tests.support.browser import Launch, PageWatch, Serve, Shots, run_axe
from tests.support.qa_seed import HOSTILE_NAME, HOSTILE_NOTE, T2_SAMPLES, add_qa, seed
from tests.support.staff import PASSWORD

pytestmark = pytest.mark.browser

DAY_QUERY = "from=2027-01-15&to=2027-01-15"
WAIT_MS = 20_000  # the live view refreshes every 5 s; generous for a shared machine


@pytest.fixture
def shots() -> Shots:
    return Shots.from_env()


@pytest.fixture
async def dashboard(
    launch: Launch, serve: Serve, settings: Settings, redis: Redis
) -> AsyncIterator[tuple[Page, PageWatch, str]]:
    """A QA person logged in on the seeded app; the page fails the test on any dialog (an XSS)."""
    await seed(settings, redis)
    await add_qa(settings, redis)
    base = await serve(settings)
    browser: Browser = await launch(None, grant_camera=False)
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = await context.new_page()
    watch = PageWatch.attach(page)
    dialogs: list[str] = []

    async def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", refuse)
    await page.goto(f"{base}/login?next=/qa")
    await page.fill("#username", "quinn")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/qa$"))
    yield page, watch, base
    assert dialogs == [], f"a page ran injected script: {dialogs}"
    await context.close()


async def assert_axe_clean(page: Page) -> None:
    violations = await run_axe(page)
    assert violations == [], violations


async def test_overview_draws_every_chart_with_its_table_and_no_console_errors(
    dashboard: tuple[Page, PageWatch, str], shots: Shots
) -> None:
    page, watch, base = dashboard
    await page.goto(f"{base}/qa?{DAY_QUERY}")
    figures = page.locator("figure[data-chart]")
    count = await figures.count()
    assert count >= 4
    for i in range(count):
        figure = figures.nth(i)
        await expect(figure.locator(".qa-chart-canvas svg")).to_have_count(1)
        assert await figure.locator(".qa-chart-canvas svg").get_attribute("aria-hidden") == "true"
        await expect(figure.locator(".qa-chart-summary")).not_to_be_empty()
    # The calls chart: one line per series; the language chart: one bar per language and series.
    await expect(page.locator('[data-chart="calls"] path.qa-line')).to_have_count(3)
    await expect(page.locator('[data-chart="by_language"] rect.qa-bar')).to_have_count(6)
    # The text alternative opens by keyboard and holds the numbers.
    summary = page.locator('[data-chart="by_language"] details summary')
    await summary.focus()
    await page.keyboard.press("Enter")
    table = page.locator('[data-chart="by_language"] table')
    await expect(table).to_be_visible()
    await expect(table.locator("tbody tr").first).to_contain_text("ASL")
    await expect(page.locator("#figures")).to_contain_text("50%")
    await expect(page.locator("#agents-table")).to_contain_text(HOSTILE_NAME)  # as text
    await shots.take(page, "qa-overview")
    await assert_axe_clean(page)
    # The same page in Chinese keeps the filters (the language link carries the query).
    await page.click('a[data-lang="zh-CN"]')
    await page.wait_for_url(re.compile(r"lang=zh-CN"))
    assert "from=2027-01-15" in page.url
    await expect(page.locator("h1")).to_have_text(i18n.translate("zh-CN", "qa.overview.title"))
    await expect(page.locator('[data-chart="calls"] svg')).to_have_count(1)
    await shots.take(page, "qa-overview-zh-CN")
    await assert_axe_clean(page)
    assert watch.errors == [], watch.errors


async def test_charts_redraw_on_a_narrow_screen(dashboard: tuple[Page, PageWatch, str], shots: Shots) -> None:
    page, watch, base = dashboard
    await page.goto(f"{base}/qa?{DAY_QUERY}")
    wide = await page.locator('[data-chart="calls"] svg').get_attribute("width")
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.locator('[data-chart="calls"] svg')).not_to_have_attribute("width", wide or "")
    narrow = int(await page.locator('[data-chart="calls"] svg').get_attribute("width") or 0)
    assert 0 < narrow < 390
    await shots.take(page, "qa-overview-phone")
    assert watch.errors == [], watch.errors


async def test_filters_change_the_list_and_the_csv_holds_the_filtered_rows(
    dashboard: tuple[Page, PageWatch, str], shots: Shots
) -> None:
    page, watch, base = dashboard
    await page.goto(f"{base}/qa/sessions?{DAY_QUERY}")
    rows = page.locator("#sessions-table tbody tr")
    await expect(rows).to_have_count(10)
    await assert_axe_clean(page)
    await page.select_option("#f-language", "BSL")
    await page.select_option("#f-outcome", "answered")
    await page.click("#apply")
    await page.wait_for_url(re.compile(r"language=BSL"))
    await expect(rows).to_have_count(2)
    shown = sorted(await rows.evaluate_all("rows => rows.map(r => r.dataset.ticket)"))
    assert shown == ["t5", "t6"]
    await expect(page.locator("#f-language")).to_have_value("BSL")  # the form keeps the filters
    await shots.take(page, "qa-sessions-filtered")

    async with page.expect_download() as info:
        await page.click("#csv-link")
    download = await info.value
    assert re.fullmatch(r"signlink-sessions-20270115-00-20270116-00\.csv", download.suggested_filename)
    path = await download.path()
    records = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert sorted(r["ticket_id"] for r in records) == shown
    assert {r["language"] for r in records} == {"BSL"}
    assert {r["outcome"] for r in records} == {"answered"}

    # The quality filter: only t2's call fell below what signing needs.
    await page.goto(f"{base}/qa/sessions?{DAY_QUERY}")
    await page.check("#f-flagged")
    await page.click("#apply")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-ticket", "t2")
    assert watch.errors == [], watch.errors


async def test_session_page_shows_everything_as_text_and_passes_axe(
    dashboard: tuple[Page, PageWatch, str], shots: Shots
) -> None:
    page, watch, base = dashboard
    await page.goto(f"{base}/qa/sessions?{DAY_QUERY}")
    await page.click('#sessions-table a[href="/qa/sessions/t1"]')
    await page.wait_for_url(re.compile(r"/qa/sessions/t1$"))
    await expect(page.locator("#fact-agent")).to_have_text(HOSTILE_NAME)
    await expect(page.locator(".qa-notes")).to_contain_text(HOSTILE_NOTE)
    await expect(page.locator("#timeline li")).to_have_count(7)
    await assert_axe_clean(page)
    await page.click(".qa-back a")
    await page.wait_for_url(re.compile(r"/qa/sessions\?from=2027-01-15"))  # back to the same list

    await page.goto(f"{base}/qa/sessions/t2")
    await expect(page.locator("#quality-flag")).to_contain_text(i18n.translate("en", "qa.reason.low_fps"))
    await expect(page.locator("#samples tbody tr")).to_have_count(2 * T2_SAMPLES)
    await expect(page.locator("#samples td.qa-bad")).to_have_count(5)  # five samples under 20 fps
    await expect(page.locator('[data-chart="fps"] svg .qa-limit')).to_have_count(1)
    await expect(page.locator('[data-chart="fps"] path.qa-line')).to_have_count(2)
    await shots.take(page, "qa-session")
    await assert_axe_clean(page)
    assert watch.errors == [], watch.errors


async def test_live_view_updates_by_itself_and_can_be_paused(
    dashboard: tuple[Page, PageWatch, str], settings: Settings, redis: Redis, shots: Shots
) -> None:
    page, watch, base = dashboard
    queue = QueueStore(redis, settings)
    await queue.agent_login("bob", ("ASL",), ("phone",), name="Bob Chen", ready=False)
    await page.goto(f"{base}/qa/live")
    await expect(page.locator("#live-waiting")).to_have_text("0")
    await expect(page.locator("#live-agents-away")).to_have_text("1")
    await assert_axe_clean(page)

    await queue.join(JoinRequest("customer-token-0001", "ASL", "phone", "normal"))
    await expect(page.locator("#live-waiting")).to_have_text("1", timeout=WAIT_MS)
    await expect(page.locator("#live-waiting-unit")).to_have_text("customer")  # not "1 customers"
    line = page.locator('#live-lines tr[data-line="ASL/phone"]')
    await expect(line).to_be_visible()
    await expect(page.locator("#live-lines")).to_be_visible()
    await shots.take(page, "qa-live")
    await assert_axe_clean(page)

    await page.click("#live-pause")
    await expect(page.locator("#live")).to_have_attribute("data-state", "paused")
    await expect(page.locator("#live-pause")).to_have_text(i18n.translate("en", "qa.live.resume"))
    updates = await page.locator("#live").get_attribute("data-updates")
    await queue.join(JoinRequest("customer-token-0002", "ASL", "phone", "normal"))
    await page.wait_for_timeout(6000)  # longer than one refresh: a paused view must not change
    await expect(page.locator("#live-waiting")).to_have_text("1")
    assert await page.locator("#live").get_attribute("data-updates") == updates
    await page.click("#live-pause")
    await expect(page.locator("#live-waiting")).to_have_text("2", timeout=WAIT_MS)
    await expect(page.locator("#live-waiting-unit")).to_have_text("customers")
    assert watch.errors == [], watch.errors


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
async def test_live_view_counts_calls_apart_from_agents_able_to_serve(
    dashboard: tuple[Page, PageWatch, str], settings: Settings, redis: Redis, locale: str
) -> None:
    # Known state: Bob (ASL/phone) is away, Carol (ASL/phone) is in a call with an ASL/phone customer.
    page, watch, base = dashboard
    queue = QueueStore(redis, settings)
    await queue.agent_login("bob", ("ASL",), ("phone",), name="Bob Chen", ready=False)
    await queue.agent_login("carol", ("ASL",), ("phone",), name="Carol", ready=True)
    offer = (await queue.join(JoinRequest("customer-token-0001", "ASL", "phone", "normal"))).offer
    assert offer is not None and offer.agent_id == "carol"
    session = await queue.accept("carol", offer.id)
    await page.goto(f"{base}/qa/live?lang={locale}")
    heads = page.locator("#live-lines thead th")
    await expect(heads.nth(5)).to_have_text(i18n.translate(locale, "qa.live.col_serving"))
    await expect(heads.nth(6)).to_have_text(i18n.translate(locale, "qa.live.col_in_call"))
    line = page.locator('#live-lines tr[data-line="ASL/phone"]')
    await expect(line.locator("td").nth(3)).to_have_text("2")  # online: Bob and Carol
    await expect(line.locator('[data-col="serving"]')).to_have_text("1")  # Bob is away
    await expect(line.locator('[data-col="in_call"]')).to_have_text("1")
    await expect(page.locator("#live-agents-in_call")).to_have_text("1")
    await assert_axe_clean(page)

    # The call ends and Bob comes back: the refreshed row (qa-live.js) says so.
    await queue.end_session(session.id, by=EndedBy.AGENT)
    await queue.agent_ready("bob")
    await expect(line.locator('[data-col="in_call"]')).to_have_text("0", timeout=WAIT_MS)
    await expect(line.locator('[data-col="serving"]')).to_have_text("2")
    assert watch.errors == [], watch.errors
