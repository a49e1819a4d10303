"""The call end to end: a customer and an agent in two Chromium processes, each with its own fake
camera, against real signlink servers (in-process and child processes) on one real Redis.

Each test names the behaviour it proves; the time from the agent's Accept to the first painted remote
frame on each side is measured from outside the pages (tests/support/e2e.py) and written to
<tmp>/accept_to_video.json, never asserted (benchmarks/accept_to_video.py reports it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from signlink.queue.models import TicketState
from signlink.queue.store import QueueStore
from tests.support.e2e import (
    AGENT_REMOTE,
    CALL_MS,
    CUSTOMER_REMOTE,
    GRANTED,
    NO_HANDS_CLIP,
    AgentSide,
    CustomerSide,
    Rig,
    drop_sockets,
    expect_video_flowing,
    metrics,
    rig,
    set_hidden,
)
from tests.support.staff import add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]
__all__ = ["rig"]


async def add_ana(rig: Rig) -> None:
    await add_account(rig.settings, rig.redis, "ana", languages=("CSL",), topics=("phone",))


def record_timing(
    tmp_path: Path, name: str, agent: dict[str, Any], customer: dict[str, Any]
) -> dict[str, Any]:
    accept = agent["acceptAt"]
    figures = {
        "test": name,
        "agent_accept_to_first_frame_ms": round(agent["firstFrameAt"] - accept, 1),
        "customer_accept_to_first_frame_ms": round(customer["firstFrameAt"] - accept, 1),
    }
    out = tmp_path / "accept_to_video.json"
    out.write_text(json.dumps(figures) + "\n")
    print("accept_to_video", json.dumps(figures))
    return figures


async def test_full_call_check_wait_accept_video_chat_end_wrap_up_rate(rig: Rig) -> None:
    await add_ana(rig)
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base)
    await agent.available()
    customer = await rig.customer(base)

    await customer.start_with_check("CSL", "phone", device_model="Mate 60 Pro")
    await customer.wait_state("waiting")  # in the queue (the offer to Ana is invisible to them)
    await customer.camera_on()

    # The offer: what, who, how long, and the check's result.
    await agent.wait_offer()
    page = agent.page
    await expect(page.locator("#offer-language")).to_contain_text("CSL")
    await expect(page.locator("#offer-model")).to_have_text("Mate 60 Pro")
    await expect(page.locator("#offer-check")).to_have_attribute("data-result", "passed")
    assert await page.evaluate("document.activeElement.id") == "accept"
    await agent.accept()

    await customer.wait_state("call")
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    record_timing(rig.tmp_path, "one_process", await metrics(agent.page), await metrics(customer.page))

    # Chat both ways, each marked delivered on the sender's side.
    await customer.page.fill("#chat-text", "My phone does not charge.")
    await customer.page.click("#chat-send")
    await expect(page.locator("#chat-log .msg-received")).to_contain_text("My phone does not charge.")
    await expect(customer.page.locator("#chat-log .msg-out")).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )
    await page.fill("#chat-input", "Which charger do you use?")
    await page.press("#chat-input", "Enter")
    await expect(page.locator("#chat-log .msg-sent")).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )
    await expect(customer.page.locator("#chat-log .msg-in")).to_contain_text("Which charger do you use?")

    # The agent ends, wraps up and is available again; the customer rates.
    await page.click("#end-call")
    await agent.wrap_up("resolved", "charger replaced")
    await expect(agent.console).to_have_attribute("data-status", "available", timeout=CALL_MS)
    await customer.page.wait_for_url("**/rate?**", timeout=CALL_MS)
    await customer.page.check('input[name="score"][value="5"]')
    await customer.page.click("#rate-send")
    await expect(customer.page.locator("#thanks-title")).to_be_visible(timeout=CALL_MS)
    assert agent.watch.errors == [], agent.watch.errors
    assert customer.watch.errors == [], customer.watch.errors


async def test_customer_and_agent_on_two_processes_failed_check_warning_then_full_call(rig: Rig) -> None:
    """The agent on an in-process server, the customer on a `signlink serve` child process."""
    await add_ana(rig)
    agent_base = await rig.serve(rig.settings)
    # The child gathers on loopback as the in-process servers do (else its answer has no candidate).
    customer_server = rig.process(
        rig.settings.replace(check_timeout_s=5.0, check_ice_addresses=("127.0.0.1",))
    )
    agent = await rig.agent(agent_base)
    await agent.available()
    customer = await rig.customer(customer_server.url, NO_HANDS_CLIP)

    # No hands in view: the check fails, the customer goes on anyway, the agent is warned why.
    await customer.start_with_check("CSL", "phone", passes=False)
    # It failed on what it saw, not for want of video: the child analysed frames.
    verdict_id = customer.page.url.split("verdict=", 1)[1].split("&", 1)[0]
    response = await customer.page.request.get(f"{customer_server.url}/api/verdicts/{verdict_id}")
    record = await response.json()
    assert record["outcome"] == "timed_out" and record["metrics"]["analysed_frames"] > 0, record
    await customer.camera_on()
    await agent.wait_offer()
    page = agent.page
    await expect(page.locator("#offer-check")).to_have_attribute("data-result", "failed")
    await expect(page.locator("#offer-check-title")).to_contain_text(
        "continued although the video check failed"
    )
    failing = page.locator("#offer-check-failing li")
    assert await failing.count() >= 1
    assert all(text.strip() for text in await failing.all_inner_texts())
    await agent.accept()

    await customer.wait_state("call")
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    await expect(page.locator("#call-check")).to_have_attribute("data-result", "failed")
    record_timing(rig.tmp_path, "two_processes", await metrics(agent.page), await metrics(customer.page))

    await customer.page.fill("#chat-text", "Hello from the other process")
    await customer.page.click("#chat-send")
    await expect(page.locator("#chat-log .msg-received")).to_contain_text("Hello from the other process")
    await expect(customer.page.locator("#chat-log .msg-out")).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )

    await page.click("#end-call")
    await agent.wrap_up("follow_up")
    await customer.page.wait_for_url("**/rate?**", timeout=CALL_MS)
    await customer.page.check('input[name="score"][value="4"]')
    await customer.page.click("#rate-send")
    await expect(customer.page.locator("#thanks-title")).to_be_visible(timeout=CALL_MS)
    assert agent.watch.errors == [], agent.watch.errors
    assert customer.watch.errors == [], (customer.watch.errors, customer_server.log_tail())


async def test_connection_cuts_during_the_call_come_back_to_the_same_session_with_video(rig: Rig) -> None:
    """kill -9 of the customer's server process (then a restart), and a cut of the agent's socket."""
    await add_ana(rig)
    agent_base = await rig.serve(rig.settings)
    customer_server = rig.process()
    agent = await rig.agent(agent_base)
    await agent.available()
    customer = await rig.customer(customer_server.url)
    await customer.join_without_check("CSL", "phone")
    await customer.camera_on()
    await agent.accept()
    await customer.wait_state("call")
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    session_id = await agent.console.get_attribute("data-session")
    assert session_id

    # 1. The customer's server dies. The customer's page reconnects when it is back.
    customer_server.kill()
    await expect(customer.page.locator("#call-state")).to_have_attribute(
        "data-state", "reconnecting", timeout=CALL_MS
    )
    customer_server.start()
    await expect(customer.page.locator("#call-state")).to_have_attribute(
        "data-state", "connected", timeout=CALL_MS
    )
    await expect(agent.console).to_have_attribute("data-session", session_id)
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    await chat_round_trip(agent, customer, "after the restart")

    # 2. The agent's socket is cut; the console reconnects to the same call.
    assert await drop_sockets(agent.page) == 1
    await expect(agent.console).to_have_attribute("data-conn", "open", timeout=CALL_MS)
    await expect(agent.console).to_have_attribute("data-view", "call")
    await expect(agent.console).to_have_attribute("data-session", session_id)
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)
    await chat_round_trip(agent, customer, "after the cut")

    # 3. The agent reloads the console: a new peer connection, the same session, video again.
    await agent.page.reload()
    await expect(agent.console).to_have_attribute("data-view", "call", timeout=CALL_MS)
    await expect(agent.console).to_have_attribute("data-session", session_id)
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)

    ticket = await QueueStore(rig.redis, rig.settings).get_ticket(await customer_ticket_id(customer))
    assert ticket.session_id == session_id
    assert ticket.state is TicketState.IN_CALL
    assert agent.watch.errors == [], agent.watch.errors
    # Chromium logs the refused reconnects while the server was down; nothing else.
    assert [e for e in customer.watch.errors if "WebSocket connection" not in e] == []


async def test_agent_ready_and_incoming_customer_are_announced_without_sound(rig: Rig) -> None:
    """Banner, tab title and a desktop notification on both sides; no audio is ever started."""
    await add_ana(rig)
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base, permissions=GRANTED)
    await agent.page.click("#settings summary")
    await agent.page.check("#opt-notify")
    await expect(agent.page.locator("#opt-notify")).to_be_checked()
    await agent.page.click("#settings summary")
    customer = await rig.customer(base)
    await customer.join_without_check("CSL", "phone")
    await customer.wait_state("waiting")
    await customer.camera_on()
    # Both people look at another tab: only what reaches a tab in the background counts now.
    for side in (agent, customer):
        await set_hidden(side.page, True)

    await agent.available()
    await agent.wait_offer()
    await expect(agent.page.locator("#offer-banner")).to_be_visible()
    assert "Incoming customer" in await agent.page.title()
    seen = await metrics(agent.page)
    assert [n["title"] for n in seen["notifications"]] == ["Incoming customer"]
    assert "CSL" in seen["notifications"][0]["body"]

    await set_hidden(agent.page, False)
    await agent.page.keyboard.press("Enter")  # Accept has the focus
    await customer.wait_state("call")
    await expect(customer.page.locator("#ready-banner")).to_be_visible()
    await expect(customer.page.locator("#ready-text")).to_contain_text("Ana Li")
    assert await customer.page.title() != "signlink"
    ready = await metrics(customer.page)
    assert len(ready["notifications"]) == 1
    assert "Ana Li" in ready["notifications"][0]["body"]
    assert ready["audioContexts"] == 0 and seen["audioContexts"] == 0  # sound never used (off by default)
    assert await customer.page.evaluate("document.querySelectorAll('audio').length") == 0
    assert agent.watch.errors == [] and customer.watch.errors == []


SLOW_CAMERA = """
(() => {
  // The customer's camera takes 4 s to open: the agent accepts before it does.
  const devices = navigator.mediaDevices;
  const open = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (c) => new Promise((r) => setTimeout(r, 4000)).then(() => open(c));
})();
"""


async def test_agent_accepting_before_the_customer_camera_opens_still_gets_their_video(rig: Rig) -> None:
    await add_ana(rig)
    base = await rig.serve(rig.settings)
    agent = await rig.agent(base)
    await agent.available()
    customer = await rig.customer(base)
    await customer.page.context.add_init_script(script=SLOW_CAMERA)
    await customer.join_without_check("CSL", "phone")
    await agent.wait_offer()
    await agent.accept()  # the customer's camera is still opening
    await customer.wait_state("call")
    assert await customer.page.evaluate("document.getElementById('self-wait').videoWidth") == 0
    await expect_video_flowing(agent.page, AGENT_REMOTE)
    await expect_video_flowing(customer.page, CUSTOMER_REMOTE)


async def chat_round_trip(agent: AgentSide, customer: CustomerSide, text: str) -> None:
    """A message each way, each marked delivered at its sender."""
    await customer.page.fill("#chat-text", f"customer {text}")
    await customer.page.click("#chat-send")
    await expect(agent.page.locator("#chat-log .msg-received").last).to_contain_text(f"customer {text}")
    await expect(customer.page.locator("#chat-log .msg-out").last).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )
    await agent.page.fill("#chat-input", f"agent {text}")
    await agent.page.press("#chat-input", "Enter")
    await expect(customer.page.locator("#chat-log .msg-in").last).to_contain_text(f"agent {text}")
    await expect(agent.page.locator("#chat-log .msg-sent").last).to_have_attribute(
        "data-status", "delivered", timeout=CALL_MS
    )


async def customer_ticket_id(customer: CustomerSide) -> str:
    saved = await customer.page.evaluate("localStorage.getItem('signlink.ticket')")
    ticket_id: str = json.loads(saved)["ticket_id"]
    return ticket_id
