"""After an outage (no sweep for a while) grace runs again from when sweeping resumed; vouching holds."""

from __future__ import annotations

from signlink.queue.clock import ManualClock
from signlink.queue.models import TicketState
from signlink.queue.store import QueueStore
from tests.queue.conftest import Join, assert_consistent

GAP = 5.0


async def test_a_sweep_after_a_gap_abandons_nobody_until_a_grace_has_passed(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    ticket = (await join()).ticket.id
    assert (await store.sweep(outage_gap_s=GAP)).abandoned == 0
    clock.advance(100)  # Redis was away: nobody could vouch, nobody swept
    result = await store.sweep(outage_gap_s=GAP)
    assert (result.abandoned, result.agents_logged_out) == (0, 0)
    # A ping now still keeps the place (grace counts from the floor, not from the last write).
    assert (await store.heartbeat(ticket)).state is TicketState.WAITING
    abandoned = []
    for _ in range(31):  # the sweeper runs again every second; nobody vouches for the ticket
        clock.advance(1)
        abandoned.append((await store.sweep(outage_gap_s=GAP)).abandoned)
    assert abandoned == [0] * 30 + [1]  # a whole grace after the last sign: now it is silence
    await assert_consistent(store)


async def test_vouching_keeps_tickets_and_agents_and_names_tickets_gone(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    kept = (await join()).ticket.id
    left = (await join()).ticket.id
    await store.leave(left)
    for _ in range(4):
        clock.advance(20)
        assert await store.vouch([kept, left], ["a1"]) == [left]
        result = await store.sweep()
        assert (result.abandoned, result.agents_logged_out) == (0, 0)
    assert (await store.get_ticket(kept)).state is TicketState.WAITING
    await assert_consistent(store)
