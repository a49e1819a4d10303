"""Hostile strings in every free-text field a call records survive the events, PostgreSQL and the QA
API unchanged (escaping on pages: tests/web/test_qa_pages.py)."""

from __future__ import annotations

import pytest

from signlink.queue.models import EndedBy
from tests.records.conftest import World

HOSTILE = [
    "'; DROP TABLE tickets; --",
    'quote " and \\ backslash \\\\ and \\x00 text',
    "<script>alert(1)</script> & &amp; </textarea>",
    '=HYPERLINK("http://x")\t+1\r\n-2\n@SUM(A1)',
    "中文 手语 👋🏽 עברית \u202e RTL \u200b zero-width",
    "$1 $$ E'\\n' %s {0} {{x}} ${x}",
    "x" * 2000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_text_survives_every_recorded_field(world: World, text: str) -> None:
    q = world.queue
    await q.agent_login("ana", ["ASL"], ["phone"], ready=True)
    model = text[:64].replace("\r", " ").replace("\n", " ").replace("\t", " ")  # the queue refuses controls
    placed = await world.join(device_model=model)
    assert placed.offer
    session = await q.accept("ana", placed.offer.id)
    await world.sessions.start(
        session_id=session.id, ticket_id=placed.ticket.id, agent_id="ana", language="ASL", topic="phone"
    )
    await world.sessions.add_note(session.id, agent_id="ana", text=text)
    await world.sessions.add_note(session.id, agent_id="ana", text=text[::-1])
    await q.end_session(session.id, by=EndedBy.AGENT)
    await world.sessions.wrap_up(session.id, agent_id="ana", outcome="resolved", notes=text)
    await world.sessions.rate(session.id, score=3, comment=text)
    await world.drain()
    page = await world.reports().session_page(placed.ticket.id)
    s = page["session"]
    assert s["wrap_notes"] == text and s["comment"] == text
    assert [n["text"] for n in s["notes"]] == [text, text[::-1]]
    assert page["ticket"]["device_model"] == model


async def test_a_nul_in_a_rating_comment_is_kept_as_a_replacement_not_lost(world: World) -> None:
    q = world.queue
    await q.agent_login("ana", ["ASL"], ["phone"], ready=True)
    placed = await world.join()
    assert placed.offer
    session = await q.accept("ana", placed.offer.id)
    await world.sessions.start(
        session_id=session.id, ticket_id=placed.ticket.id, agent_id="ana", language="ASL", topic="phone"
    )
    await q.end_session(session.id, by=EndedBy.CUSTOMER)
    await world.sessions.rate(session.id, score=5, comment="nice\x00call")
    await world.drain()
    page = await world.reports().session_page(placed.ticket.id)
    assert page["session"]["comment"] == "nice\ufffdcall" and page["session"]["rating"] == 5
