"""Joining the queue over a bad connection, in real Chromium against the real server: a join that gets
no answer or a brief 503 is sent again with backoff, says so on the page, and never makes a second
ticket (the page's own token makes a lost answer's retry a 409 for the same place)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Route, expect

from signlink.queue.store import QueueStore
from tests.browser.test_customer_journey import (
    Journey,
    agent_clip,
    agents,
    axe_clean,
    en,
    hands_camera,
    journey,
    journey_state,
    new_page,
    shots,
    stored_ticket,
    unexpected,
    wait_url,
    waiters,
)

__all__ = ["agent_clip", "agents", "hands_camera", "journey", "shots", "waiters"]

pytestmark = pytest.mark.browser


async def waiting_tickets(journey: Journey) -> int:
    snapshot = await QueueStore(journey.redis, journey.settings).snapshot()
    return snapshot.waiting


async def test_a_join_whose_answer_was_lost_keeps_one_place(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away", languages=("CSL",))
    page, watch, _ = await new_page(await journey.browser())
    tries: list[str] = []

    async def lose_the_first_answer(route: Route) -> None:
        tries.append(route.request.headers.get("idempotency-key", ""))
        if len(tries) == 1:
            await route.fetch()  # the server got it and made the ticket ...
            await route.abort("connectionreset")  # ... but the page never hears back
        else:
            await route.continue_()

    await page.route("**/api/tickets", lose_the_first_answer)
    await page.goto(wait_url(base))
    await journey_state(page, "waiting")
    await expect(page.locator("#position")).to_have_text("1")
    assert len(tries) == 2 and tries[0] == tries[1] and len(tries[0]) == 43  # one key for both tries
    assert await waiting_tickets(journey) == 1
    # The page keeps the token the server minted for the first try, and it names the one ticket.
    token = (await stored_ticket(page))["token"]
    assert token != tries[0]
    ticket = await QueueStore(journey.redis, journey.settings).ticket_by_token(token)
    assert ticket.state == "waiting"
    await expect(page.locator("#conn-text")).to_be_hidden()
    # The browser logs the reset itself.
    errors = [e for e in unexpected(watch) if "ERR_CONNECTION_RESET" not in e]
    assert errors == [], errors


async def test_a_busy_service_is_tried_again_and_the_page_says_so(journey: Journey) -> None:
    base = await journey.start()
    await journey.agents(base, status="away", languages=("CSL",))
    page, watch, _ = await new_page(await journey.browser())
    tries = 0
    seen = asyncio.Event()

    async def busy_twice(route: Route) -> None:
        nonlocal tries
        tries += 1
        if tries <= 2:
            await route.fulfill(status=503, json={"error": "unavailable", "message": "Redis failing over"})
            return
        await seen.wait()  # hold the third try until the test has seen the page say it is retrying
        await route.continue_()

    await page.route("**/api/tickets", busy_twice)
    await page.goto(wait_url(base))
    retrying = page.locator("#conn-text")
    await expect(retrying).to_be_visible()
    await expect(retrying).to_have_text(en("wait.join_retrying"))
    await expect(page.locator("#journey")).to_have_attribute("data-state", "joining")
    await axe_clean(page, "joining, retrying")
    seen.set()  # the third try (after 1 s, then 2 s of backoff) may go through now
    await journey_state(page, "waiting")
    await expect(retrying).to_be_hidden()
    assert tries == 3 and await waiting_tickets(journey) == 1
    # The browser logs each 503 itself; nothing else may appear.
    errors = [e for e in unexpected(watch) if "503" not in e]
    assert errors == [], errors
