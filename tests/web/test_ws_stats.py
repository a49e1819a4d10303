"""Call quality over the real WebSocket, and a real call's record on the QA API afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.records.store import RecordStore
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, in_call, kit  # noqa: F401 (kit: a fixture)
from tests.support.staff import add_account, login

GOOD = {
    "rtt_ms": 80,
    "packet_loss": 0.001,
    "jitter_ms": 4.5,
    "fps": 29.5,
    "width": 640,
    "height": 480,
    "freezes": 0,
}
POOR = {**GOOD, "fps": 9.0}


async def stored_samples(app: App, session_id: str, n: int) -> list[Any]:
    store: RecordStore = app.app[keys.RECORDS]
    for _ in range(100):
        samples = (await store.samples([session_id]))[session_id]
        if len(samples) >= n:
            return samples
        await asyncio.sleep(0.02)
    raise AssertionError(f"{n} samples were not stored")


async def test_both_sides_send_stats_and_each_is_kept_with_its_side(kit: CallKit) -> None:  # noqa: F811
    agent_app, customer_app = await kit.app(), await kit.app()
    agent_ws, customer_ws, session, _, _ = await in_call(kit, agent_app, customer_app)
    sid = session["session_id"]
    await customer_ws.send({"type": "stats", "session_id": sid, **POOR})
    await agent_ws.send({"type": "stats", **GOOD, "jitter_buffer_ms": 60, "width": None})
    await customer_ws.ping()
    await agent_ws.ping()
    samples = sorted(await stored_samples(agent_app, sid, 2), key=lambda s: s.side.value)
    assert [(s.side.value, s.fps, s.width) for s in samples] == [
        ("agent", 29.5, None),
        ("customer", 9.0, 640),
    ]
    assert samples[0].jitter_buffer_ms == 60 and samples[1].packet_loss == 0.001
    assert not [m for m in customer_ws.seen + agent_ws.seen if m["type"] == "error"]


async def test_stats_outside_a_call_or_for_another_session_or_malformed_are_refused(kit: CallKit) -> None:  # noqa: F811
    app = await kit.app()
    await kit.agent(app, "bo", ready=False)  # online, away: a customer may join and wait
    _, waiting_ws, _ = await kit.connected_customer(app)
    await waiting_ws.send({"type": "stats", **GOOD})
    assert (await waiting_ws.expect("error", ref="stats"))["code"] == "no_session"
    await waiting_ws.send({"type": "leave"})
    await waiting_ws.expect("left")
    agent_ws, customer2_ws, session, _, _ = await in_call(kit, app, app)
    await customer2_ws.send({"type": "stats", "session_id": "s999999999999", **GOOD})
    assert (await customer2_ws.expect("error", ref="stats"))["code"] == "wrong_session"
    for bad in (
        {"fps": -1},
        {"packet_loss": 2},
        {"width": 1.5},
        {"fps": True},
        {"rtt_ms": "80"},
        {"freezes": 1e9},
    ):
        await agent_ws.send({"type": "stats", **GOOD, **bad})
        assert (await agent_ws.expect("error", ref="stats"))["code"] == "bad_field", bad
    await agent_ws.ping()
    assert (await app.app[keys.RECORDS].samples([session["session_id"]]))[session["session_id"]] == []


async def test_a_real_call_reaches_the_qa_api_with_wrap_up_rating_and_quality(
    kit: CallKit,  # noqa: F811
    redis: Redis,
) -> None:
    agent_app, customer_app = await kit.app(), await kit.app()
    agent_ws, customer_ws, session, _, customer = await in_call(kit, agent_app, customer_app)
    sid = session["session_id"]
    for _ in range(3):  # the customer's picture stays poor: 30 s of under 20 fps
        await customer_ws.send({"type": "stats", **POOR})
    await agent_ws.send({"type": "stats", **GOOD})
    await customer_ws.ping()
    await stored_samples(agent_app, sid, 4)
    await customer_ws.send({"type": "chat", "id": "c1", "text": "my phone screen is cracked"})
    await agent_ws.expect("chat")
    await customer_ws.send({"type": "end"})
    await agent_ws.expect("ended")
    await agent_ws.send({"type": "wrap_up", "session_id": sid, "outcome": "repair_booked", "notes": "screen"})
    await agent_ws.expect("saved", what="wrap_up")
    rated = await customer_app.post("/api/ratings", json={"token": customer.token, "score": 5})
    assert rated.status == 201

    # The recorders of both apps share the events; wait until the record has the ended call.
    store: RecordStore = agent_app.app[keys.RECORDS]
    for _ in range(300):
        record = await store.get(customer.ticket_id)
        part = record.sessions.get(sid) if record is not None else None
        if part is not None and part.ended_at is not None and part.rating and part.quality:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the call was not recorded")

    await add_account(kit.settings, redis, "quinn", role=Role.QA, display_name="Quinn")
    qa = await kit.logged_in(customer_app, "quinn")
    rows = (await (await qa.get("/api/qa/sessions")).json())["sessions"]
    assert [(r["ticket_id"], r["outcome"], r["rating"], r["flagged"]) for r in rows] == [
        (customer.ticket_id, "answered", 5, True)
    ]
    page = await (await qa.get(f"/api/qa/sessions/{customer.ticket_id}")).json()
    assert page["session"]["outcome"] == "repair_booked" and page["session"]["wrap_notes"] == "screen"
    assert page["quality"]["reasons"] == ["low_fps"] and len(page["quality"]["samples"]) == 4
    assert [e["event"] for e in page["timeline"]][:4] == ["joined", "offered", "offer_accepted", "connected"]
    summary = await (await qa.get("/api/qa/summary")).json()
    assert (summary["answered"], summary["rating"]["avg"], summary["quality"]["flagged"]) == (1, 5.0, 1)
    csv_text = await (await qa.get("/qa/sessions.csv")).text()
    assert customer.ticket_id in csv_text
    # Metadata only: the chat text is nowhere in the records.
    db = agent_app.app[keys.DATABASE]
    for table in ("tickets", "call_sessions", "session_notes", "quality_samples", "ticket_events"):
        rows = await db.fetch(f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%cracked%'")
        assert rows[0]["n"] == 0, table
    await login(qa, "quinn")  # still logged in: the session was not disturbed
