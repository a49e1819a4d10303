"""The recorder on the real queue, Redis and PostgreSQL: what a ticket's life leaves behind, and how
reliably (replays, reordering, two recorders, a dead one)."""

from __future__ import annotations

import asyncio

import pytest

from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.queue.errors import NotServed
from signlink.queue.events import EventType
from signlink.queue.models import EndedBy
from signlink.records.query import Filters
from signlink.records.row import row_of
from signlink.records.ticket import CheckStatus, OfferOutcome, Outcome
from tests.records.conftest import World


def failing_verdict(*failing: Criterion) -> Verdict:
    results = tuple(
        CriterionResult(c, Status.FAIL if c in failing else Status.PASS, 0.2, 0.5) for c in Criterion
    )
    return Verdict(passed=not failing, complete=True, criteria=results, metrics={"fps": 24.0})


async def call(world: World) -> tuple[str, str]:
    """bob and ana online; a customer who continued past a failed check joins; bob declines, ana takes
    it 20 s after joining; the customer ends the call 300 s later. Returns (ticket id, session id)."""
    q, clock = world.queue, world.clock
    await q.agent_login("bob", ["ASL"], ["phone"], ready=True)
    clock.advance(1)
    await q.agent_login("ana", ["ASL"], ["phone"], ready=True)
    verdict_id = await world.verdicts.save(
        failing_verdict(Criterion.LIGHT), check_id="c1", duration_s=6.5, now=clock.t
    )
    await world.verdicts.mark_continued(verdict_id)
    clock.advance(10)
    placed = await world.join(verdict_id=verdict_id, device_model="Pixel 9")
    assert placed.offer and placed.offer.agent_id == "bob"
    clock.advance(5)
    await q.decline("bob", placed.offer.id)
    ticket = await q.get_ticket(placed.ticket.id)
    assert ticket.offer_id
    clock.advance(15)
    session = await q.accept("ana", ticket.offer_id)
    await world.sessions.start(
        session_id=session.id,
        ticket_id=ticket.id,
        agent_id="ana",
        language="ASL",
        topic="phone",
        started_at=session.started_at,
    )
    clock.advance(300)
    await q.end_session(session.id, by=EndedBy.CUSTOMER)
    return ticket.id, session.id


async def test_a_call_leaves_its_whole_story(world: World) -> None:
    ticket_id, session_id = await call(world)
    assert await world.drain() >= 6
    record = await world.store.get(ticket_id)
    assert record is not None
    assert record.outcome is Outcome.ANSWERED and record.answer_s == 20.0
    assert (record.language, record.topic, record.priority_class, record.device_model) == (
        "ASL",
        "phone",
        "normal",
        "Pixel 9",
    )
    assert [(o.agent, o.outcome) for o in record.offers.values()] == [
        ("bob", OfferOutcome.DECLINED),
        ("ana", OfferOutcome.ACCEPTED),
    ]
    part = record.sessions[session_id]
    assert (part.agent, part.ended_by, part.talk_s) == ("ana", "customer", 300.0)
    # The check, copied: measurements and the customer's choice to go on.
    assert record.check is not None and record.check_status is CheckStatus.CONTINUED
    assert record.check.failing == ["light"] and record.check.duration_s == 6.5
    assert record.check.criteria["light"] == {"status": "fail", "value": 0.2}
    assert record.check.metrics == {"fps": 24.0}
    events = [step["event"] for step in record.timeline()]
    assert events == [
        "checked",
        "joined",
        "offered",
        "offer_declined",
        "offered",
        "offer_accepted",
        "connected",
        "ended",
    ]
    row = row_of(record)
    assert row is not None and (row.waited_s, row.handle_s, row.check, row.agent) == (
        20.0,
        300.0,
        "continued",
        "ana",
    )
    # No conversation content anywhere: the record holds no text but ids, codes and numbers.
    assert "chat" not in record.dumps()


async def test_wrap_up_rating_and_quality_arriving_after_the_end_are_recorded(world: World) -> None:
    ticket_id, session_id = await call(world)
    await world.calls.quality_sample(session_id, world.clock.t, "customer", {"fps": 12, "rtt_ms": 90})
    await world.drain()
    record = await world.store.get(ticket_id)
    assert record is not None and record.sessions[session_id].wrapped_at is None

    # Later: the wrap-up, the rating, more samples (the call was poor for the customer all along).
    await world.sessions.wrap_up(session_id, agent_id="ana", outcome="resolved", notes="replaced the SIM")
    await world.sessions.rate(session_id, score=4, comment='=HYPERLINK("x")')
    for i in range(1, 4):
        await world.calls.quality_sample(session_id, world.clock.t + i, "customer", {"fps": 12, "rtt_ms": 90})
    await world.drain()
    record = await world.store.get(ticket_id)
    assert record is not None
    part = record.sessions[session_id]
    assert (part.wrap_outcome, part.rating) == ("resolved", 4)
    assert part.wrap_s is not None and part.wrap_s > 0
    assert part.quality is not None and part.quality.samples == 4 and part.quality.reasons == ["low_fps"]
    s = await world.reports().summary(_today(world))
    assert s["rating"] == {"count": 1, "avg": 4.0}
    assert s["quality"]["flagged"] == 1 and s["wrap_up_time"]["avg_s"] is not None
    page = await world.reports().session_page(ticket_id)
    assert page["session"]["wrap_notes"] == "replaced the SIM" and page["session"]["rating"] == 4
    assert page["session"]["comment"] == '=HYPERLINK("x")'
    assert page["quality"]["flagged"] and len(page["quality"]["samples"]) == 4
    assert [e["event"] for e in page["timeline"]][-2:] == ["wrapped_up", "rated"]


async def test_abandoned_and_unserved_requests_are_recorded(world: World) -> None:
    await world.queue.agent_login("ana", ["ASL"], ["phone"])  # online, away: tickets wait
    placed = await world.join()
    world.clock.advance(42)
    await world.queue.leave(placed.ticket.id)
    with pytest.raises(NotServed):
        await world.join("BSL", "pc")
    await world.drain()
    record = await world.store.get(placed.ticket.id)
    assert record is not None and record.outcome is Outcome.ABANDONED
    assert (record.abandon_reason, record.abandon_waited_s) == ("left", 42.0)
    rows, _ = await world.reports().page(_today(world), 10, None)
    assert [(r["outcome"], r["language"], r["topic"]) for r in rows] == [
        ("unserved", "BSL", "pc"),
        ("abandoned", "ASL", "phone"),
    ]
    assert rows[0]["ticket_id"].startswith("u")


async def test_a_transfer_keeps_one_record_with_both_calls(world: World) -> None:
    q, clock = world.queue, world.clock
    await q.agent_login("ana", ["ASL"], ["phone"], ready=True)
    await q.agent_login("cy", ["ASL"], ["repair"], ready=True)
    placed = await world.join()
    assert placed.offer
    clock.advance(10)
    first = await q.accept("ana", placed.offer.id)
    clock.advance(60)
    moved = await q.transfer(placed.ticket.id, "ASL", "repair", agent_id="ana")
    assert moved.offer and moved.offer.agent_id == "cy"
    clock.advance(5)
    second = await q.accept("cy", moved.offer.id)
    clock.advance(100)
    await q.end_session(second.id, by=EndedBy.AGENT)
    await world.drain()
    record = await world.store.get(placed.ticket.id)
    assert record is not None
    assert [s.ended_by for _, s in record.ordered_sessions()] == ["transfer", "agent"]
    assert record.answer_s == 10.0  # the first answer
    assert (record.current_language, record.current_topic) == ("ASL", "repair")
    row = row_of(record)
    assert row is not None and row.transferred and row.agents == ["ana", "cy"] and row.agent == "cy"
    assert row.session_id == second.id and first.id in record.sessions


async def test_each_event_is_recorded_once_across_two_processes(world: World) -> None:
    for _ in range(3):
        await call_quickly(world)
    events = (await world.queue.consumer("x", "x").lag()).length
    other = world.another_recorder("other")
    await world.recorder.ensure_group()
    counts = await asyncio.gather(world.drain(), world.drain(other))
    assert sum(counts) == events  # each handed to one of them
    assert (await world.recorder.lag()).behind == 0
    s = await world.reports().summary(_today(world))
    assert (s["tickets"], s["answered"]) == (3, 3)


async def test_events_a_dead_process_took_are_claimed_and_recorded(world: World) -> None:
    ticket_id, _ = await call(world)
    dead = world.another_recorder("dead")
    await dead.ensure_group()
    taken = await dead.streams[0].read(own_backlog=False, count=500)  # read, then "killed"
    assert taken
    assert await world.store.get(ticket_id) is None
    heir = world.another_recorder("heir", claim_idle_ms=0)
    assert await world.drain(heir) >= len(taken)
    record = await world.store.get(ticket_id)
    assert record is not None and record.outcome is Outcome.ANSWERED
    assert (await heir.lag()).queue.pending == 0


async def test_handling_an_event_twice_changes_nothing(world: World) -> None:
    await call(world)
    await world.drain()
    before = await figures(world)
    await world.replay(await world.queue.read_events())
    assert await figures(world) == before


async def test_events_in_any_order_give_the_same_record(world: World) -> None:
    ticket_id, _ = await call(world)
    await world.drain_calls()  # the verdict and the session (the queue events are replayed by hand)
    events = [e for e in await world.queue.read_events() if e.ticket_id == ticket_id]
    for event in reversed(events):
        await world.replay([event])
    backwards = await world.store.get(ticket_id)
    before = await figures(world)
    await world.forget(ticket_id)
    for event in events:
        await world.replay([event])
    assert await world.store.get(ticket_id) == backwards
    assert await figures(world) == before
    await world.forget(ticket_id)
    await world.replay(events[::2] + events[1::2])  # one batch, shuffled
    assert await world.store.get(ticket_id) == backwards


async def test_an_event_that_cannot_be_understood_is_set_aside_not_retried_forever(world: World) -> None:
    await world.redis.xadd(world.queue.consumer("x", "x").key, {"type": "ticket.exploded", "at": "1"})
    await world.redis.xadd(world.calls.key, {"type": "call.exploded", "at": "1"})
    await call_quickly(world)
    await world.drain()
    dead = await world.store.db.fetch("SELECT fields, error FROM dead_events ORDER BY id")
    assert [d["fields"]["type"] for d in dead] == ["ticket.exploded", "call.exploded"]
    assert (await world.recorder.lag()).behind == 0
    assert (await world.reports().summary(_today(world)))["answered"] == 1


async def test_the_verdict_copy_outlives_the_live_verdict(world: World) -> None:
    ticket_id, _ = await call(world)
    await world.drain()
    joined = next(e for e in await world.queue.read_events() if e.type is EventType.TICKET_JOINED)
    assert joined.verdict_id
    await world.redis.delete(world.verdicts.key(joined.verdict_id))  # the live copy expired
    await world.forget(ticket_id)
    await world.replay([e for e in await world.queue.read_events() if e.ticket_id == ticket_id])
    record = await world.store.get(ticket_id)
    assert record is not None and record.check is not None and record.check.found
    assert record.check_status is CheckStatus.CONTINUED
    assert record.check.criteria["light"] == {"status": "fail", "value": 0.2}


async def test_a_verdict_recorded_after_its_ticket_still_reaches_the_record(world: World) -> None:
    ticket_id, _ = await call(world)
    joined = next(e for e in await world.queue.read_events() if e.type is EventType.TICKET_JOINED)
    assert joined.verdict_id
    await world.redis.delete(world.verdicts.key(joined.verdict_id))  # not live, not yet recorded
    await world.replay(await world.queue.read_events())
    record = await world.store.get(ticket_id)
    assert record is not None and record.check is not None and not record.check.found
    await world.drain()  # now the call events: the verdict, its "continued", the session
    record = await world.store.get(ticket_id)
    assert record is not None and record.check is not None and record.check.found
    assert record.check_status is CheckStatus.CONTINUED


async def call_quickly(world: World) -> None:
    q = world.queue
    await q.agent_login("ana", ["ASL"], ["phone"], ready=True)
    placed = await world.join()
    assert placed.offer
    world.clock.advance(3)
    session = await q.accept("ana", placed.offer.id)
    world.clock.advance(60)
    await q.end_session(session.id, by=EndedBy.AGENT)
    await q.agent_ready("ana")


async def figures(world: World) -> list[object]:
    """Everything QA shows of the day, and every stored row (timestamps of the writes aside)."""
    f = _today(world)
    reports = world.reports()
    rows = await world.store.db.fetch("SELECT * FROM tickets ORDER BY id")
    agents = await world.store.db.fetch("SELECT * FROM ticket_agents ORDER BY ticket_id, agent")
    return [
        await reports.summary(f),
        await reports.agents(f),
        await reports.timeseries(f, 1),
        [{k: v for k, v in dict(r).items() if k != "updated_at"} for r in rows],
        [dict(r) for r in agents],
    ]


def _today(world: World) -> Filters:
    return Filters.period(world.clock.t - 86400, world.clock.t + 3600)
