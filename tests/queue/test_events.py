"""Every change of a ticket or offer is an event in the stream, with typed fields."""

from __future__ import annotations

import pytest

from signlink.queue.audit import disallowed_transitions
from signlink.queue.clock import ManualClock
from signlink.queue.events import EventType, parse_event
from signlink.queue.models import EndedBy
from signlink.queue.store import QueueStore
from tests.queue.conftest import T0, Join


async def test_a_ticket_life_is_told_by_its_events(store: QueueStore, join: Join, clock: ManualClock) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["ASL"], ["phone"], ready=True)
    placed = await join(verdict_id="v-123", device_model="Pixel 9")
    assert placed.offer
    clock.advance(2)
    await store.decline("a1", placed.offer.id)  # goes to a2 at once
    ticket = await store.get_ticket(placed.ticket.id)
    assert ticket.offer_id
    clock.advance(3)
    session = await store.accept("a2", ticket.offer_id)
    clock.advance(60)
    await store.end_session(session.id, by=EndedBy.AGENT)

    events = [e for e in await store.read_events() if e.ticket_id == placed.ticket.id]
    assert [e.type for e in events] == [
        EventType.TICKET_JOINED,
        EventType.OFFER_CREATED,
        EventType.OFFER_DECLINED,
        EventType.OFFER_CREATED,
        EventType.OFFER_ACCEPTED,
        EventType.SESSION_ENDED,
    ]
    joined, offered, declined, offered2, accepted, ended = events
    assert (joined.language, joined.topic, joined.priority_class) == ("ASL", "phone", "normal")
    assert (joined.verdict_id, joined.device_model, joined.at) == ("v-123", "Pixel 9", T0)
    assert offered.agent_id == "a1" and offered.deadline == T0 + 20
    assert declined.agent_id == "a1" and declined.missed == 1
    assert offered2.agent_id == "a2" and offered2.waited_s == 2.0
    assert accepted.session_id == session.id and accepted.waited_s == 5.0
    assert ended.by == "agent" and ended.duration_s == 60.0


async def test_agent_status_events_follow_the_state_machine(
    store: QueueStore, join: Join, clock: ManualClock
) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    await store.agent_ready("a1")
    placed = await join()
    assert placed.offer
    session = await store.accept("a1", placed.offer.id)
    await store.end_session(session.id, by=EndedBy.CUSTOMER)
    await store.agent_away("a1")
    await store.agent_logout("a1")
    events = [e for e in await store.read_events() if e.type is EventType.AGENT_STATUS]
    moves = [(e.previous or "", e.status or "") for e in events]
    assert moves == [
        ("offline", "away"),
        ("away", "available"),
        ("available", "on_offer"),
        ("on_offer", "in_call"),
        ("in_call", "wrap_up"),
        ("wrap_up", "away"),
        ("away", "offline"),
    ]
    assert disallowed_transitions(moves) == []
    assert disallowed_transitions([("in_call", "available")]) == ["in_call -> available"]


async def test_reading_after_an_id_returns_only_newer_events(store: QueueStore) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    first = await store.read_events()
    await store.agent_ready("a1")
    newer = await store.read_events(first[-1].id)
    assert [e.type for e in newer] == [EventType.AGENT_STATUS]
    assert newer[0].status == "available"


def test_parse_event_reads_bytes_and_rejects_unknown_types() -> None:
    event = parse_event(
        b"1-0", {b"type": b"ticket.abandoned", b"at": b"12.5", b"waited": b"3.25", b"reason": b"left"}
    )
    assert (event.type, event.at, event.waited_s, event.reason) == (
        EventType.TICKET_ABANDONED,
        12.5,
        3.25,
        "left",
    )
    with pytest.raises(ValueError):
        parse_event("1-1", {"type": "ticket.exploded", "at": "1"})
