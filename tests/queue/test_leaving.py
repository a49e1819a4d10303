"""Leaving, the heartbeat grace, reconnecting, transfers, and tickets nobody online can serve."""

from __future__ import annotations

import pytest

from signlink.errors import Forbidden
from signlink.queue.clock import ManualClock
from signlink.queue.errors import Closed, NotServed
from signlink.queue.events import EventType
from signlink.queue.models import AgentStatus, EndedBy, TicketState
from signlink.queue.store import QueueStore
from tests.queue.conftest import Join, assert_consistent


async def test_leaving_is_counted_as_abandoned_with_waited_time(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    placed = await join()
    clock.advance(42)
    ticket = await store.leave(placed.ticket.id)
    assert ticket.state is TicketState.ABANDONED and ticket.finish_reason == "left"
    assert ticket.waited_s(clock.t) == pytest.approx(42)
    assert (await store.leave(placed.ticket.id)).state is TicketState.ABANDONED  # twice is harmless
    events = [e for e in await store.read_events() if e.type is EventType.TICKET_ABANDONED]
    assert [(e.ticket_id, e.reason, e.waited_s) for e in events] == [(placed.ticket.id, "left", 42.0)]
    assert (await store.totals())["abandoned"] == 1
    await assert_consistent(store)


async def test_silent_customer_is_abandoned_after_the_grace(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    silent = (await join()).ticket.id
    talking = (await join()).ticket.id
    clock.advance(29)
    await store.heartbeat(talking)
    await store.agent_heartbeat("a1")
    assert (await store.sweep()).abandoned == 0
    clock.advance(1.5)
    assert (await store.sweep()).abandoned == 1
    assert (await store.get_ticket(silent)).finish_reason == "timeout"
    assert (await store.get_ticket(talking)).state is TicketState.WAITING
    await assert_consistent(store)


async def test_reconnect_within_the_grace_keeps_the_place(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    first = await join(customer_token="first-customer-token-0001")
    clock.advance(1)
    second = (await join()).ticket.id
    clock.advance(25)  # the first customer's connection dropped; they come back with their token
    await store.heartbeat(second)
    resumed = await store.ticket_by_token("first-customer-token-0001")
    assert resumed.id == first.ticket.id
    await store.heartbeat(resumed.id)
    assert (await store.position(resumed.id)).position == 1
    assert (await store.position(second)).position == 2


async def test_heartbeat_after_the_grace_is_refused(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    placed = await join()
    clock.advance(31)
    with pytest.raises(Closed):
        await store.heartbeat(placed.ticket.id)  # the sweeper had not run yet: same outcome
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.ABANDONED
    await assert_consistent(store)


async def test_transfer_keeps_the_waited_time(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL", "BSL"], ["phone", "pc"])
    moving = (await join("ASL", "phone")).ticket.id
    clock.advance(60)
    newer = (await join("BSL", "pc")).ticket.id
    clock.advance(5)
    placed = await store.transfer(moving, "BSL", "pc")
    assert placed.ticket.language == "BSL" and placed.ticket.topic == "pc"
    assert placed.ticket.waited_s(clock.t) == pytest.approx(65)
    assert (await store.position(moving)).position == 1  # ahead of the ticket that joined later
    assert (await store.position(newer)).position == 2
    await assert_consistent(store)


async def test_transfer_from_a_call_keeps_the_time_waited_before_it(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("asl", ["ASL"], ["phone"])
    await store.agent_login("bsl", ["BSL"], ["phone"])
    placed = await join("ASL", "phone")
    clock.advance(25)
    update = await store.agent_ready("asl")
    clock.advance(5)
    assert update.offer
    session = await store.accept("asl", update.offer.id)
    clock.advance(120)  # talking; then the agent finds the customer signs BSL
    moved = await store.transfer(placed.ticket.id, "BSL", "phone", agent_id="asl")
    assert moved.ticket.state is TicketState.WAITING and moved.ticket.session_id is None
    assert moved.ticket.waited_s(clock.t) == pytest.approx(30)
    assert (await store.get_agent("asl")).status is AgentStatus.WRAP_UP
    with pytest.raises(Closed):
        await store.end_session(session.id, by=EndedBy.AGENT)
    update = await store.agent_ready("bsl")
    assert update.offer and update.offer.ticket_id == placed.ticket.id
    await assert_consistent(store)


async def test_only_the_agent_in_the_call_can_transfer_it(store: QueueStore, join: Join) -> None:
    await store.agent_login("a1", ["ASL"], ["phone", "pc"], ready=True)
    placed = await join()
    assert placed.offer
    await store.accept("a1", placed.offer.id)
    with pytest.raises(Forbidden):
        await store.transfer(placed.ticket.id, "ASL", "pc", agent_id="someone-else")
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.IN_CALL


async def test_unserved_language_is_told_at_once_with_the_languages_served(
    store: QueueStore, join: Join
) -> None:
    await store.agent_login("a1", ["ASL", "BSL"], ["phone"])
    await store.agent_login("a2", ["CSL"], ["repair"])
    await store.agent_logout("a2")
    with pytest.raises(NotServed) as caught:
        await join("CSL", "repair")
    assert caught.value.languages == ("ASL", "BSL") and caught.value.topics == ()
    with pytest.raises(NotServed) as caught:
        await join("ASL", "pc")
    assert caught.value.languages == ("ASL", "BSL") and caught.value.topics == ("phone",)
    snapshot = await store.snapshot()
    assert snapshot.waiting == 0
    kinds = [e.type for e in await store.read_events()]
    assert kinds.count(EventType.TICKET_UNSERVED) == 2


async def test_last_agent_leaving_a_queue_with_waiting_tickets_is_announced(
    store: QueueStore, join: Join
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    await join()
    await store.agent_logout("a1")
    events = [e for e in await store.read_events() if e.type is EventType.QUEUE_UNSERVED]
    assert [(e.language, e.topic, e.waiting) for e in events] == [("ASL", "phone", 1)]
