"""Bad input: clear errors, and the queue exactly as it was."""

from __future__ import annotations

import pytest

from signlink.errors import BadRequest, Conflict, Forbidden, NotFound
from signlink.queue.clock import ManualClock
from signlink.queue.errors import AlreadyQueued, Closed
from signlink.queue.models import EndedBy, JoinRequest, TicketState
from signlink.queue.store import QueueStore
from signlink.queue.validation import DEVICE_FIELD_MAX
from tests.queue.conftest import Join, assert_consistent, state_of, token


@pytest.fixture
async def busy(store: QueueStore, join: Join, clock: ManualClock) -> QueueStore:
    """Two agents, one on an offer; two waiting tickets."""
    await store.agent_login("a1", ["ASL"], ["phone"], ready=True)
    await store.agent_login("a2", ["ASL"], ["phone", "pc"])
    await join()
    clock.advance(1)
    await join()
    await join("ASL", "pc")
    return store


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("language", "XSL", "unknown sign language 'XSL'"),
        ("topic", "toaster", "unknown topic 'toaster'"),
        ("priority_class", "vip", "unknown priority class 'vip'"),
        ("device_model", "x" * (DEVICE_FIELD_MAX + 1), "device_model is longer than 64"),
        ("device_serial", "s" * 10_000, "device_serial is longer than 64"),
        ("device_model", "bad\x00model", "control characters"),
        ("customer_token", "short", "customer_token must be"),
        ("verdict_id", "../../etc", "verdict_id must be"),
    ],
)
async def test_bad_join_is_refused_and_changes_nothing(
    busy: QueueStore, field: str, value: str, message: str
) -> None:
    before = await state_of(busy)
    fields = {"customer_token": token(), "language": "ASL", "topic": "phone", "priority_class": "normal"}
    fields[field] = value
    with pytest.raises(BadRequest, match=message):
        await busy.join(JoinRequest(**fields))
    assert await state_of(busy) == before


async def test_duplicate_join_points_at_the_existing_ticket(busy: QueueStore) -> None:
    first = await busy.join(JoinRequest("same-customer-token-01", "ASL", "phone", "normal"))
    before = await state_of(busy)
    with pytest.raises(AlreadyQueued) as caught:
        await busy.join(JoinRequest("same-customer-token-01", "ASL", "pc", "emergency"))
    assert caught.value.ticket_id == first.ticket.id
    assert await state_of(busy) == before


async def test_rejoin_after_leaving_is_a_new_ticket(store: QueueStore) -> None:
    await store.agent_login("a1", ["ASL"], ["phone"])
    first = await store.join(JoinRequest("returning-customer-01", "ASL", "phone", "normal"))
    await store.leave(first.ticket.id)
    second = await store.join(JoinRequest("returning-customer-01", "ASL", "phone", "normal"))
    assert second.ticket.id != first.ticket.id
    assert (await store.ticket_by_token("returning-customer-01")).id == second.ticket.id


async def test_accepting_someone_elses_offer_is_forbidden_and_changes_nothing(busy: QueueStore) -> None:
    offer_id = (await busy.get_agent("a1")).offer_id
    assert offer_id
    before = await state_of(busy)
    with pytest.raises(Forbidden):
        await busy.accept("a2", offer_id)
    with pytest.raises(Forbidden):
        await busy.decline("a2", offer_id)
    assert await state_of(busy) == before


async def test_accepting_a_closed_or_unknown_offer_changes_nothing(
    busy: QueueStore, clock: ManualClock
) -> None:
    offer_id = (await busy.get_agent("a1")).offer_id
    assert offer_id
    clock.advance(20)
    await busy.sweep()  # expired
    before = await state_of(busy)
    with pytest.raises(Closed, match="closed"):
        await busy.accept("a1", offer_id)
    with pytest.raises(NotFound):
        await busy.accept("a1", "o999999999999")
    with pytest.raises(NotFound):
        await busy.decline("a1", "nonsense")
    assert await state_of(busy) == before


async def test_unknown_ids_are_not_found(store: QueueStore) -> None:
    with pytest.raises(NotFound):
        await store.heartbeat("t000000000099")
    with pytest.raises(NotFound):
        await store.agent_ready("nobody")
    with pytest.raises(NotFound):
        await store.end_session("s000000000099", by=EndedBy.AGENT)
    with pytest.raises(NotFound):
        await store.ticket_by_token("never-seen-customer-token")
    with pytest.raises(BadRequest):
        await store.leave("t 1; FLUSHALL")


async def test_agent_actions_out_of_turn_are_conflicts(busy: QueueStore, join: Join) -> None:
    before = await state_of(busy)
    with pytest.raises(Conflict, match="open offer"):
        await busy.agent_ready("a1")
    with pytest.raises(BadRequest, match="at least one"):
        await busy.agent_login("a3", [], ["phone"])
    with pytest.raises(BadRequest, match="unknown topic"):
        await busy.agent_login("a3", ["ASL"], ["toaster"])
    assert await state_of(busy) == before
    await busy.agent_logout("a2")
    with pytest.raises(Conflict, match="log in"):
        await busy.agent_ready("a2")


async def test_transfer_to_the_same_or_an_unknown_queue_is_refused(busy: QueueStore) -> None:
    ticket_ids = (await busy.dump())["tickets"][::2]
    ticket = await busy.get_ticket(sorted(ticket_ids)[-1])
    assert ticket.state is TicketState.WAITING
    before = await state_of(busy)
    with pytest.raises(BadRequest):
        await busy.transfer(ticket.id, ticket.language, ticket.topic)
    with pytest.raises(BadRequest):
        await busy.transfer(ticket.id, "XSL", "phone")
    assert await state_of(busy) == before
    await assert_consistent(busy)
