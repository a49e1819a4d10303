"""The agent console in real Chromium against the real server: keyboard only, axe in every state,
missed offers and the automatic Away, decline, private notes and transfer, narrow screens, zh-CN.

Customers are real: a second Chromium on the customer pages when a call is needed, otherwise a
ticket joined through the queue store (what POST /api/tickets does), which is enough for offers.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Page, ViewportSize, expect

from signlink.accounts import Role
from signlink.queue.models import JoinRequest, TicketState
from signlink.queue.store import QueueStore
from signlink.web import i18n
from tests.support.browser import Shots, run_axe
from tests.support.e2e import (
    AGENT_REMOTE,
    CALL_MS,
    CUSTOMER_REMOTE,
    AgentSide,
    Rig,
    expect_video_flowing,
    rig,
)
from tests.support.staff import PASSWORD, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(150)]
__all__ = ["rig"]

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def shots() -> Shots:
    return Shots.from_env()


async def tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


async def focused(page: Page) -> str:
    value: str = await page.evaluate("() => document.activeElement ? document.activeElement.id : ''")
    return value


async def join(rig: Rig, language: str = "CSL", topic: str = "phone") -> str:
    """A waiting customer, as POST /api/tickets makes one (no browser: offers need only the ticket)."""
    store = QueueStore(rig.redis, rig.settings)
    placed = await store.join(
        JoinRequest(
            customer_token=secrets.token_urlsafe(24),
            language=language,
            topic=topic,
            priority_class="normal",
            device_model="Pixel 9",
            device_serial="SN-77",
        )
    )
    return placed.ticket.id


async def test_keyboard_only_shift_accept_call_end_wrap_up_with_axe_in_every_state(
    rig: Rig, shots: Shots
) -> None:
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL", "ASL"), topics=("phone", "pc"))
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base)
    page = agent.page
    await expect(agent.console).to_have_attribute("data-status", "away")
    assert await run_axe(page) == [], "away"
    await shots.take(page, "agent-away")

    # Available with the keyboard; the pressed state is announced by aria-pressed.
    await tab_to(page, "set-available")
    await page.keyboard.press("Enter")
    await expect(agent.console).to_have_attribute("data-status", "available", timeout=CALL_MS)
    await expect(page.locator("#set-available")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#idle-title")).to_have_text(i18n.translate("en", "agent.idle.available"))
    assert await run_axe(page) == [], "idle"
    await shots.take(page, "agent-idle")

    customer = await rig.customer(base)
    await customer.join_without_check("CSL", "phone")
    await customer.camera_on()

    # The offer takes the focus: Enter accepts. It is announced once, assertively, with the time left.
    await agent.wait_offer()
    assert await focused(page) == "accept"
    announcement = page.locator("#announce-assertive")
    await expect(announcement).to_contain_text("Incoming customer")
    await expect(announcement).to_contain_text("seconds to answer")
    await expect(page.locator("#countdown-text")).to_have_text(re.compile(r"^\d+ s left to answer$"))
    await expect(page.locator("#offer-check")).to_have_attribute("data-result", "none")
    assert "Incoming customer" in await page.title()
    assert await run_axe(page) == [], "offer"
    await shots.take(page, "agent-offer")
    await page.keyboard.press("Enter")

    await expect(agent.console).to_have_attribute("data-view", "call", timeout=CALL_MS)
    await expect_video_flowing(page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    assert "Incoming customer" not in await page.title()
    # The customer's video: at least a third of a 1280x800 screen, the largest thing on it.
    box = await page.locator(AGENT_REMOTE).bounding_box()
    assert box is not None
    assert box["width"] * box["height"] >= 1280 * 800 / 3
    # Chat by keyboard: type, Enter sends; the message shows delivered.
    await tab_to(page, "chat-input")
    await page.keyboard.type("Hello, I am Ana.")
    await page.keyboard.press("Enter")
    await expect(page.locator("#chat-log .msg-sent")).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )
    await expect(customer.page.locator("#chat-log .msg-in")).to_contain_text("Hello, I am Ana.")
    assert await run_axe(page) == [], "call"
    await shots.take(page, "agent-call")

    # End with the keyboard; the wrap-up form has the focus on the outcome.
    await tab_to(page, "end-call")
    await page.keyboard.press("Enter")
    await expect(agent.console).to_have_attribute("data-view", "wrapup")
    assert await focused(page) == "wrapup-outcome"
    # Finish without an outcome: the error is said and tied to the field, the focus stays there.
    await tab_to(page, "wrapup-submit")
    await page.keyboard.press("Enter")
    await expect(page.locator("#wrapup-error")).to_have_text(
        i18n.translate("en", "agent.wrapup.need_outcome")
    )
    await expect(page.locator("#wrapup-outcome")).to_have_attribute("aria-invalid", "true")
    assert await focused(page) == "wrapup-outcome"
    assert await run_axe(page) == [], "wrap-up"
    await shots.take(page, "agent-wrapup")
    await page.keyboard.press("ArrowDown")  # the first outcome: resolved
    await expect(page.locator("#wrapup-outcome")).to_have_value("resolved")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Charger was faulty.")
    await tab_to(page, "wrapup-submit")
    await page.keyboard.press("Enter")
    await expect(agent.console).to_have_attribute("data-view", "idle", timeout=CALL_MS)
    await expect(agent.console).to_have_attribute("data-status", "available", timeout=CALL_MS)
    assert await focused(page) == "idle-title"
    await expect(page.locator("#last-call")).to_contain_text("Resolved")
    assert await run_axe(page) == [], "after the call"
    assert agent.watch.errors == [], agent.watch.errors


async def test_missed_offers_set_the_agent_away_and_the_console_says_when_and_why(
    rig: Rig, shots: Shots
) -> None:
    settings = rig.settings.replace(offer_timeout_s=2.0, max_missed_offers=2, offer_retry_s=0.2)
    await add_account(settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))
    base = await rig.serve(settings)
    # On a phone-sized screen: nothing may need sideways scrolling.
    agent = await AgentSide.open(await rig.launch(None), base, viewport=PHONE)
    page = agent.page
    await join(rig)
    await agent.available()

    await agent.wait_offer()
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # Two offers run out: the second one sets the agent away, with the time and the reason.
    await expect(agent.console).to_have_attribute("data-status", "away", timeout=CALL_MS)
    missed = page.locator("#missed")
    await expect(missed).to_be_visible()
    await expect(page.locator("#missed-title")).to_have_text(re.compile(r"^You were set to Away at "))
    await expect(page.locator("#missed-text")).to_contain_text("2 customers in a row")
    await expect(page.locator("#announce-polite")).to_contain_text("You were set to Away")
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert await run_axe(page) == [], "missed, phone"
    await shots.take(page, "agent-missed-phone")

    # Available again: the notice goes; the next offer is declined; the customer goes back.
    await page.click("#set-available")
    await expect(missed).to_be_hidden()
    await agent.wait_offer()
    await page.click("#decline")
    await expect(agent.console).to_have_attribute("data-view", "idle")
    assert await focused(page) == "idle-title"
    assert agent.watch.errors == [], agent.watch.errors


async def test_private_note_and_transfer_put_the_customer_back_in_the_chosen_queue(
    rig: Rig, shots: Shots
) -> None:
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base)
    page = agent.page
    await agent.available()
    customer = await rig.customer(base)
    await customer.join_without_check("CSL", "phone")
    await customer.camera_on()
    await agent.accept()
    await customer.wait_state("call")

    # A private note is stored for QA and never reaches the customer.
    await page.click("#notes summary")
    await page.fill("#note-input", "Customer prefers ASL.")
    await page.click("#note-save")
    await expect(page.locator("#note-list li")).to_contain_text("saved", timeout=CALL_MS)
    await expect(page.locator("#notes-count")).to_have_text("(1)")
    assert "Customer prefers ASL." not in await customer.page.content()

    # Switch to Chinese in the middle of the call: the call goes on, the words change.
    await page.click('a[data-lang="zh-CN"]')
    await expect(page.locator("#call-title")).to_have_text(i18n.translate("zh-CN", "agent.call.title"))
    await expect(agent.console).to_have_attribute("data-view", "call")
    await page.click('a[data-lang="en"]')

    # No one serves ASL for tablets: the server refuses, the console says so where the agent looks.
    await page.click("#transfer summary")
    await page.select_option("#transfer-language", "ASL")
    await page.select_option("#transfer-topic", "tablet")
    await page.click("#transfer-submit")
    await expect(page.locator("#server-error")).to_be_visible(timeout=CALL_MS)
    await expect(page.locator("#server-error-text")).to_have_text(
        i18n.translate("en", "agent.error.not_served")
    )
    await expect(agent.console).to_have_attribute("data-view", "call")
    await shots.take(page, "agent-transfer-refused")

    # Ben (away) serves ASL for computers: the customer goes to his queue, keeping the waited time.
    await QueueStore(rig.redis, rig.settings).agent_login("ben", ("ASL",), ("pc",), name="Ben")
    await page.select_option("#transfer-topic", "pc")
    await page.click("#transfer-submit")
    await expect(agent.console).to_have_attribute("data-view", "wrapup", timeout=CALL_MS)
    await expect(page.locator("#wrapup-outcome")).to_have_value("transferred")
    await expect(page.locator("#wrapup-note-list")).to_contain_text("Customer prefers ASL.")
    await customer.wait_state("waiting")

    ticket_id = await customer.page.evaluate(
        "() => JSON.parse(localStorage.getItem('signlink.ticket')).ticket_id"
    )
    ticket = await QueueStore(rig.redis, rig.settings).get_ticket(ticket_id)
    assert (ticket.language, ticket.topic, ticket.state) == ("ASL", "pc", TicketState.WAITING)
    await agent.wrap_up("transferred")
    assert agent.watch.errors == [], agent.watch.errors


async def test_a_socket_refused_for_good_says_why_and_offers_the_way_on(rig: Rig) -> None:
    """A second console tab takes over (4409); an admin may open the page but not take calls (4403)."""
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))
    await add_account(rig.settings, rig.redis, "root", role=Role.ADMIN, display_name="Admin")
    base = await rig.serve(rig.settings)
    browser = await rig.launch(None)
    first = await AgentSide.open(browser, base)
    second_tab = await first.page.context.new_page()
    await second_tab.goto(f"{base}/agent")
    await expect(second_tab.locator("#console")).to_have_attribute("data-conn", "open", timeout=CALL_MS)
    page = first.page
    await expect(first.console).to_have_attribute("data-conn", "closed", timeout=CALL_MS)
    await expect(page.locator("#idle-title")).to_have_text(i18n.translate("en", "agent.idle.replaced"))
    await expect(page.locator("#idle-link")).to_have_attribute("href", "/agent")
    assert await run_axe(page) == []

    admin = await browser.new_context()
    admin_page = await admin.new_page()
    await admin_page.goto(f"{base}/login?next=/agent")
    await admin_page.fill("#username", "root")
    await admin_page.fill("#password", PASSWORD)
    await admin_page.click("form.login-form button[type=submit]")
    await expect(admin_page.locator("#console")).to_have_attribute("data-conn", "closed", timeout=CALL_MS)
    await expect(admin_page.locator("#idle-title")).to_have_text(i18n.translate("en", "agent.idle.forbidden"))
    await expect(admin_page.locator("#set-available")).to_be_disabled()
