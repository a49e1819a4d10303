"""Position, estimated wait and the queue snapshot."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signlink.queue.clock import ManualClock
from signlink.queue.estimator import WaitStats, digamma, expected_wait, time_to_agent
from signlink.queue.models import AgentStatus, EndedBy, TicketState
from signlink.queue.store import QueueStore
from tests.queue.conftest import Join, assert_consistent


@given(st.integers(0, 300), st.integers(1, 50), st.floats(30, 900), st.floats(1e-4, 0.05))
def test_closed_form_matches_the_sum(ahead: int, servers: int, busy_s: float, theta: float) -> None:
    stats = WaitStats(busy_s=busy_s, accept_s=0.0, abandon_rate=theta)
    rate = servers / busy_s
    direct = sum(1.0 / (rate + i * theta) for i in range(ahead + 1))
    assert time_to_agent(ahead, servers, stats) == pytest.approx(direct, rel=1e-7)


def test_without_abandonment_it_is_n_plus_one_over_s_mu() -> None:
    stats = WaitStats(busy_s=300.0, accept_s=4.0, abandon_rate=0.0)
    assert expected_wait(5, 3, stats) == pytest.approx(6 * 300 / 3 + 4)
    assert expected_wait(0, 0, stats) is None
    assert expected_wait(3, 2, stats, offered=True) == 4.0


def test_digamma_known_values() -> None:
    assert digamma(1.0) == pytest.approx(-0.5772156649015329, abs=1e-9)
    assert digamma(0.5) == pytest.approx(-1.9635100260214235, abs=1e-9)
    assert digamma(100.0) == pytest.approx(math.log(100) - 1 / 200 - 1 / 120000, abs=1e-9)


def test_stats_use_priors_until_measured() -> None:
    stats = WaitStats.from_raw({})
    assert stats.busy_s > 0 and stats.accept_s > 0 and stats.abandon_rate == 0
    measured = WaitStats.from_raw({"busy_s": "200", "accept_s": "3", "wait_sum": "1000", "aband_sum": "2"})
    assert (measured.busy_s, measured.accept_s, measured.abandon_rate) == (200.0, 3.0, 0.002)


async def test_positions_and_estimates_follow_the_queue(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["ASL"], ["phone"], ready=True)
    first, second = (await join()).ticket.id, (await join()).ticket.id  # both offered at once
    waiting = [(await join()).ticket.id for _ in range(3)]
    positions = await store.positions([first, *waiting])
    assert positions[first].state is TicketState.OFFERED and positions[first].position is None
    assert [positions[t].position for t in waiting] == [1, 2, 3]
    estimates = [positions[t].estimated_wait_s or 0.0 for t in waiting]
    assert all(e > 0 for e in estimates)
    assert estimates == sorted(estimates) and estimates[0] < estimates[2]
    assert all(positions[t].serving_agents == 2 for t in waiting)
    # The queue moves: the first two are accepted and ended, the third gets an offer.
    for tid in (first, second):
        ticket = await store.get_ticket(tid)
        assert ticket.offer_id and ticket.agent_id
        session = await store.accept(ticket.agent_id, ticket.offer_id)
        await store.end_session(session.id, by=EndedBy.AGENT)
    await store.agent_ready("a1")
    moved = await store.positions(waiting)
    assert moved[waiting[0]].state is TicketState.OFFERED
    assert [moved[t].position for t in waiting[1:]] == [1, 2]
    assert (moved[waiting[2]].estimated_wait_s or 0.0) < estimates[2]


async def test_tickets_in_other_queues_sharing_agents_count_as_ahead(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("both", ["ASL"], ["phone", "pc"], ready=True)
    await store.agent_login("pc-only", ["ASL"], ["pc"], ready=True)
    assert (await join("ASL", "phone")).offer  # both agents busy with offers from here on
    assert (await join("ASL", "pc")).offer
    await join("ASL", "phone")
    await join("ASL", "pc")
    clock.advance(1)
    mine = (await join("ASL", "phone")).ticket.id
    position = await store.position(mine)
    assert position.position == 2
    # ahead: 1 in my queue + the pc ticket weighted by the share of pc agents who also serve me (1/2)
    assert position.ahead_effective == pytest.approx(1.5)


async def test_snapshot_counts_calls_per_queue_apart_from_agents_able_to_serve(
    store: QueueStore, join: Join
) -> None:
    # Two agents can serve ASL/phone; one takes an ASL/phone customer, the other (skilled for both)
    # an ASL/pc one: "in a call" counts the calls of each queue's customers, not who could serve it.
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["ASL"], ["phone", "pc"])
    offer = (await join("ASL", "phone")).offer
    assert offer is not None
    session = await store.accept("a1", offer.id)
    await store.agent_ready("a2")
    pc_offer = (await join("ASL", "pc")).offer
    assert pc_offer is not None and pc_offer.agent_id == "a2"
    await store.accept("a2", pc_offer.id)
    lines = {(ln.language, ln.topic): ln for ln in (await store.snapshot()).lines}
    assert (lines["ASL", "phone"].serving_agents, lines["ASL", "phone"].in_call_agents) == (2, 1)
    assert (lines["ASL", "pc"].serving_agents, lines["ASL", "pc"].in_call_agents) == (1, 1)
    assert lines["BSL", "phone"].in_call_agents == 0
    await store.end_session(session.id, by=EndedBy.AGENT)
    lines = {(ln.language, ln.topic): ln for ln in (await store.snapshot()).lines}
    assert (lines["ASL", "phone"].serving_agents, lines["ASL", "phone"].in_call_agents) == (2, 0)
    await assert_consistent(store)


async def test_no_estimate_while_every_capable_agent_is_away(store: QueueStore, join: Join) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])  # online, away
    position = await store.position((await join()).ticket.id)
    assert position.serving_agents == 0 and position.estimated_wait_s is None


async def test_snapshot_counts_waiting_longest_wait_and_agents(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["BSL"], ["pc"])
    await store.agent_login("a3", ["BSL"], ["pc"])
    await store.agent_logout("a3")
    await join("ASL", "phone")  # offered to a1
    clock.advance(10)
    await join("BSL", "pc")
    clock.advance(20)
    await join("BSL", "pc")
    clock.advance(5)
    snap = await store.snapshot()
    lines = {(ln.language, ln.topic): ln for ln in snap.lines}
    assert (lines["ASL", "phone"].waiting, lines["ASL", "phone"].offered) == (0, 1)
    assert lines["ASL", "phone"].longest_wait_s == pytest.approx(35)
    assert lines["BSL", "pc"].waiting == 2 and lines["BSL", "pc"].longest_wait_s == pytest.approx(25)
    assert lines["BSL", "pc"].online_agents == 1 and lines["BSL", "pc"].serving_agents == 0
    assert snap.waiting == 2 and snap.longest_wait_s == pytest.approx(35)
    assert snap.by_language()["BSL"] == 2
    assert snap.agents[AgentStatus.ON_OFFER] == 1
    assert snap.agents[AgentStatus.AWAY] == 1
    assert snap.agents[AgentStatus.OFFLINE] == 1
