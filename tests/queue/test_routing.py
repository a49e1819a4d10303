"""Who gets which ticket: classes, aging, FIFO, skills, longest-idle agent."""

from __future__ import annotations

import pytest

from signlink.config import Settings
from signlink.queue import ordering
from signlink.queue.clock import ManualClock
from signlink.queue.models import AgentStatus, EndedBy, TicketState
from signlink.queue.store import QueueStore
from tests.queue.conftest import Join, assert_consistent


async def _serve_order(store: QueueStore, agent: str, n: int) -> list[str]:
    """Ticket ids in the order one agent is offered them (accept, end, ready again)."""
    order = []
    update = await store.agent_ready(agent)
    for _ in range(n):
        assert update.offer is not None
        order.append(update.offer.ticket_id)
        session = await store.accept(agent, update.offer.id)
        await store.end_session(session.id, by=EndedBy.AGENT)
        update = await store.agent_ready(agent)
    return order


def test_score_puts_emergency_above_any_wait() -> None:
    settings = Settings(priority_classes=("emergency", "callback", "normal"))
    # A normal ticket waiting a whole year still ranks below an emergency that just came in.
    assert ordering.score(settings, "emergency", 1e9 + 365 * 86400) < ordering.score(settings, "normal", 1e9)


def test_score_aging_lets_a_long_wait_overtake_one_class() -> None:
    settings = Settings(aging_points_per_min=1.0, class_gap_points=10.0)
    head_start = 10 * 60  # callback is 10 points above normal; a point is a minute of waiting
    assert ordering.score(settings, "callback", 1000.0) < ordering.score(settings, "normal", 1000.0 - 60)
    assert ordering.score(settings, "normal", 1000.0 - head_start - 1) < ordering.score(
        settings, "callback", 1000.0
    )


def test_score_without_aging_is_strict_class_order() -> None:
    settings = Settings(aging_points_per_min=0.0)
    assert ordering.score(settings, "callback", 1e9) < ordering.score(settings, "normal", 0.0)
    assert ordering.score(settings, "emergency", 1e9) < ordering.score(settings, "callback", 0.0)


async def test_emergency_first_then_class_then_fifo(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    normal1 = (await join(cls="normal")).ticket.id
    clock.advance(1)
    callback = (await join(cls="callback")).ticket.id
    clock.advance(1)
    normal2 = (await join(cls="normal")).ticket.id
    clock.advance(1)
    emergency = (await join(cls="emergency")).ticket.id
    clock.advance(1)
    assert await _serve_order(store, "a1", 4) == [emergency, callback, normal1, normal2]
    await assert_consistent(store)


async def test_a_long_waiting_ticket_rises_above_a_newer_higher_class(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    old_normal = (await join(cls="normal")).ticket.id
    clock.advance(11 * 60)  # more than the 10-point head start of callback at 1 point a minute
    new_callback = (await join(cls="callback")).ticket.id
    clock.advance(1)
    assert await _serve_order(store, "a1", 2) == [old_normal, new_callback]


async def test_same_time_same_class_is_first_in_first_out(store: QueueStore, join: Join) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    ids = [(await join()).ticket.id for _ in range(5)]  # the manual clock does not move: equal scores
    assert await _serve_order(store, "a1", 5) == ids


async def test_agent_gets_only_tickets_of_their_skills(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("bsl", ["BSL"], ["phone", "pc", "repair"])
    await store.agent_login("asl-pc", ["ASL"], ["pc"])
    bsl_repair = (await join("BSL", "repair")).ticket.id
    asl_pc = (await join("ASL", "pc")).ticket.id
    update = await store.agent_ready("asl-pc")
    assert update.offer is not None and update.offer.ticket_id == asl_pc
    update = await store.agent_ready("bsl")
    assert update.offer is not None and update.offer.ticket_id == bsl_repair
    clock.advance(1)
    asl_phone = await join("ASL", "pc")  # only asl-pc could take it, and they are on an offer
    assert asl_phone.offer is None


async def test_agent_takes_the_best_ticket_across_their_queues(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL", "BSL"], ["phone", "pc"])
    await join("ASL", "phone")
    clock.advance(1)
    bsl_pc_callback = (await join("BSL", "pc", "callback")).ticket.id
    clock.advance(1)
    update = await store.agent_ready("a1")
    assert update.offer is not None and update.offer.ticket_id == bsl_pc_callback


async def test_joining_ticket_goes_to_the_agent_idle_longest(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    for name in ("a1", "a2", "a3"):
        await store.agent_login(name, ["ASL"], ["phone"])
    await store.agent_ready("a2")
    clock.advance(5)
    await store.agent_ready("a3")
    clock.advance(5)
    await store.agent_ready("a1")
    clock.advance(5)
    offered_to = []
    for _ in range(3):
        placed = await join()
        assert placed.offer is not None and placed.ticket.state is TicketState.OFFERED
        offered_to.append(placed.offer.agent_id)
    assert offered_to == ["a2", "a3", "a1"]
    await assert_consistent(store)


async def test_ineligible_idle_agent_is_not_offered(store: QueueStore, join: Join) -> None:
    await store.agent_login("asl", ["ASL"], ["phone"], ready=True)
    await store.agent_login("bsl", ["BSL"], ["phone"], ready=True)
    placed = await join("BSL", "phone")
    assert placed.offer is not None and placed.offer.agent_id == "bsl"
    assert (await store.get_agent("asl")).status is AgentStatus.AVAILABLE


async def test_agent_ready_with_nothing_waiting_stays_available(store: QueueStore) -> None:
    update = await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    assert update.offer is None
    assert update.agent.status is AgentStatus.AVAILABLE
    snapshot = await store.snapshot()
    assert snapshot.agents[AgentStatus.AVAILABLE] == 1


@pytest.mark.parametrize("aging", [0.0, 2.0])
def test_class_offsets_order_classes_for_equal_join_times(aging: float) -> None:
    settings = Settings(aging_points_per_min=aging)
    offsets = ordering.class_offsets(settings)
    values = [offsets[c] for c in settings.priority_classes]
    assert values == sorted(values)
