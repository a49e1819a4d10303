"""Offers: accept, decline, timeout, auto-away, original place, expiry by another process."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.queue.clock import ManualClock
from signlink.queue.errors import Closed, OfferExpired
from signlink.queue.models import AgentStatus, EndedBy, TicketState
from signlink.queue.store import QueueStore
from signlink.redisio import connect
from tests.queue.conftest import Join, assert_consistent


async def test_accept_opens_a_session(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    clock.advance(3)
    placed = await join()
    assert placed.offer is not None
    assert placed.offer.deadline == pytest.approx(clock.t + 20)
    clock.advance(4)
    session = await store.accept("a1", placed.offer.id)
    ticket = await store.get_ticket(placed.ticket.id)
    agent = await store.get_agent("a1")
    assert ticket.state is TicketState.IN_CALL and ticket.session_id == session.id
    assert agent.status is AgentStatus.IN_CALL and agent.session_id == session.id
    assert session.waited_s == pytest.approx(4)
    await assert_consistent(store)


async def test_session_end_then_wrap_up_then_available(store: QueueStore, join: Join) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    session = await store.accept("a1", placed.offer.id)
    ended = await store.end_session(session.id, by=EndedBy.CUSTOMER)
    assert ended.state is TicketState.ENDED and ended.finish_reason == "customer"
    assert (await store.get_agent("a1")).status is AgentStatus.WRAP_UP
    with pytest.raises(Closed):
        await store.end_session(session.id, by=EndedBy.AGENT)
    update = await store.agent_ready("a1")
    assert update.agent.status is AgentStatus.AVAILABLE
    await assert_consistent(store)


async def test_declined_ticket_returns_to_its_original_place(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    first = (await join()).ticket.id
    clock.advance(10)
    second = (await join()).ticket.id
    update = await store.agent_ready("a1")
    assert update.offer and update.offer.ticket_id == first
    clock.advance(30)
    later = (await join()).ticket.id
    await store.decline("a1", update.offer.id)
    assert (await store.position(first)).position == 1
    assert (await store.position(second)).position == 2
    assert (await store.position(later)).position == 3
    ticket = await store.get_ticket(first)
    assert ticket.state is TicketState.WAITING and ticket.offers == 1
    assert ticket.waited_s(clock.t) == pytest.approx(40)
    await assert_consistent(store)


async def test_decline_goes_to_another_idle_agent_first(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    clock.advance(1)
    await store.agent_login("a2", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer and placed.offer.agent_id == "a1"
    await store.decline("a1", placed.offer.id)
    ticket = await store.get_ticket(placed.ticket.id)
    assert ticket.state is TicketState.OFFERED and ticket.agent_id == "a2"
    a1 = await store.get_agent("a1")
    assert a1.status is AgentStatus.AVAILABLE and a1.missed == 1
    assert a1.retry_at == pytest.approx(clock.t + 5)


async def test_after_the_retry_pause_the_only_agent_is_offered_again(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    await store.decline("a1", placed.offer.id)
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    clock.advance(4)
    assert (await store.sweep()).retried_agents == 0
    clock.advance(1)
    assert (await store.sweep()).retried_agents == 1
    ticket = await store.get_ticket(placed.ticket.id)
    assert ticket.state is TicketState.OFFERED and ticket.agent_id == "a1"
    await assert_consistent(store)


async def test_offer_times_out_and_agent_goes_away_after_two_misses(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    clock.advance(19.9)
    assert (await store.sweep()).expired_offers == 0
    clock.advance(0.1)
    assert (await store.sweep()).expired_offers == 1
    assert (await store.get_agent("a1")).missed == 1
    clock.advance(5)
    await store.sweep()  # retry pause over: offered again
    ticket = await store.get_ticket(placed.ticket.id)
    assert ticket.state is TicketState.OFFERED and ticket.offers == 2
    # The console is open (heartbeats) but nobody answers; the customer is still there.
    await store.agent_heartbeat("a1")
    await store.heartbeat(placed.ticket.id)
    clock.advance(20)
    await store.sweep()
    agent = await store.get_agent("a1")
    assert agent.status is AgentStatus.AWAY and agent.missed == 2
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    # Back from away: the miss count starts again and the ticket is offered at once.
    update = await store.agent_ready("a1")
    assert update.agent.missed == 0 and update.offer and update.offer.ticket_id == placed.ticket.id
    await assert_consistent(store)


async def test_accepting_resets_the_miss_count(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    await store.decline("a1", placed.offer.id)
    update = await store.agent_ready("a1")  # ready cuts the retry pause short
    assert update.offer
    await store.accept("a1", update.offer.id)
    assert (await store.get_agent("a1")).missed == 0


async def test_offer_is_expired_by_another_process(
    redis_server: object, redis: Redis, qsettings: Settings, join: Join, clock: ManualClock
) -> None:
    """A second store on its own connection (another process) expires an offer the first one made."""
    first = QueueStore(redis, qsettings, clock=clock)
    await first.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    url = redis_server.url  # type: ignore[attr-defined]
    other_redis = connect(url)
    try:
        other = QueueStore(other_redis, qsettings, clock=ManualClock(clock.t + 21))
        result = await other.sweep()
        assert result.expired_offers == 1
    finally:
        await other_redis.aclose()
    with pytest.raises(Closed):
        await first.accept("a1", placed.offer.id)
    assert (await first.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    await assert_consistent(first)


async def test_late_accept_expires_the_offer(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    clock.advance(20)
    with pytest.raises(OfferExpired):
        await store.accept("a1", placed.offer.id)
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    assert (await store.get_agent("a1")).missed == 1
    await assert_consistent(store)


async def test_customer_leaving_during_offer_frees_the_agent_keeping_their_place(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    clock.advance(10)
    await store.agent_login("a2", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer and placed.offer.agent_id == "a1"
    await store.leave(placed.ticket.id)
    a1 = await store.get_agent("a1")
    assert a1.status is AgentStatus.AVAILABLE and a1.missed == 0
    nxt = await join()
    assert nxt.offer and nxt.offer.agent_id == "a1"  # still idle longest


async def test_agent_going_away_during_offer_requeues_without_a_miss(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    placed = await join()
    assert placed.offer
    agent = await store.agent_away("a1")
    assert agent.status is AgentStatus.AWAY and agent.missed == 0
    assert (await store.get_ticket(placed.ticket.id)).state is TicketState.WAITING
    await assert_consistent(store)


async def test_silent_agent_is_logged_out(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["ASL"], ["phone"])
    clock.advance(20)
    await store.agent_heartbeat("a2")
    clock.advance(10.5)  # a1 silent for 30.5 s, a2 for 10.5 s
    result = await store.sweep()
    assert result.agents_logged_out == 1
    assert (await store.get_agent("a1")).status is AgentStatus.OFFLINE
    assert (await store.get_agent("a2")).status is AgentStatus.AWAY
    with pytest.raises(Closed):
        await store.agent_heartbeat("a1")
    await assert_consistent(store)


async def test_supervisor_and_console_reads(store: QueueStore, join: Join) -> None:
    await store.agent_login("b1", ["ASL"], ["phone"], ready=True, name="Bea")
    await store.agent_login("a1", ["BSL"], ["pc"])
    placed = await join(device_model="Watch 4", device_serial="SN-1")
    assert placed.offer
    assert (await store.get_offer(placed.offer.id)).ticket_id == placed.ticket.id
    session = await store.accept("b1", placed.offer.id)
    ticket = await store.ticket_for_session(session.id)
    assert (ticket.id, ticket.device_model, ticket.device_serial) == (placed.ticket.id, "Watch 4", "SN-1")
    agents = await store.list_agents()
    assert [(a.id, a.name, a.status) for a in agents] == [
        ("a1", "", AgentStatus.AWAY),
        ("b1", "Bea", AgentStatus.IN_CALL),
    ]
    with pytest.raises(Closed):
        await store.get_offer(placed.offer.id)
