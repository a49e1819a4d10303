"""A party's socket moving to another process mid-call is a takeover, not a drop: the old socket closes
4409, the peer hears exactly one `peer rejoined` and never `peer disconnected`, presence stays right."""

from __future__ import annotations

from signlink.signaling.presence import CallRef, customer_party
from signlink.signaling.protocol import CloseCode, Role
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, Peer, in_call, kit

__all__ = ["kit"]
MOVES = 10
SETTLE_S = 1.0  # five presence intervals: a wrong drop or revival would have shown by then


async def _peer_messages(ws: Peer, within: float = SETTLE_S) -> list[str]:
    """The `peer` states `ws` hears until it stays quiet for `within` (pinging keeps it honest)."""
    states: list[str] = []
    while True:
        try:
            states.append((await ws.expect("peer", within=within))["state"])
        except TimeoutError:
            return states


async def test_a_customer_moving_between_processes_is_a_takeover(kit: CallKit) -> None:
    apps = [await kit.app(), await kit.app()]
    agent_ws, customer_ws, session, _, customer = await in_call(kit, apps[0], apps[0])
    call = CallRef(session["session_id"], customer.ticket_id, "ana")
    presence = apps[0].app[keys.CALLS].presence
    old = customer_ws
    for move in range(MOVES):
        target: App = apps[(move + 1) % 2]
        new = await customer.connect(target, pc="live")
        kit.sockets.append(new.ws)
        welcome = await new.expect("welcome")
        assert welcome["state"]["state"] == "in_call"
        assert welcome["state"]["session"]["peer"]["connected"] is True
        assert await old.closed() == 4409, f"move {move}"
        assert await _peer_messages(agent_ws) == ["rejoined"], f"move {move}"
        assert await presence.is_present(call, Role.CUSTOMER)
        old = new
    await agent_ws.ping()
    assert not [m for m in agent_ws.seen if m["type"] == "peer" and m["state"] == "disconnected"]


async def test_an_agent_moving_between_processes_is_a_takeover(kit: CallKit) -> None:
    apps = [await kit.app(), await kit.app()]
    agent_ws, customer_ws, session, _, customer = await in_call(kit, apps[0], apps[1])
    call = CallRef(session["session_id"], customer.ticket_id, "ana")
    agent = await kit.logged_in(apps[1], "ana")  # the same agent logs in on the other process
    old = agent_ws
    for move in range(MOVES):
        target = agent if move % 2 == 0 else await kit.logged_in(apps[0], "ana")
        ws = await target.ws_connect("/ws")
        new = Peer(ws)
        kit.sockets.append(ws)
        await new.send({"type": "hello", "role": "agent", "pc": "live"})
        welcome = await new.expect("welcome")
        assert welcome["state"]["session"]["peer"]["connected"] is True, f"move {move}"
        assert await old.closed() == 4409, f"move {move}"
        assert await _peer_messages(customer_ws) == ["rejoined"], f"move {move}"
        assert await apps[0].app[keys.CALLS].presence.is_present(call, Role.AGENT)
        old = new


async def test_an_old_socket_that_closes_after_the_takeover_does_not_mark_the_party_gone(
    kit: CallKit,
) -> None:
    # The new socket's claim happened first; the old one's own close (a cut, say) arrives late.
    app = await kit.app()
    _agent_ws, customer_ws, session, _, customer = await in_call(kit, app, app)
    call = CallRef(session["session_id"], customer.ticket_id, "ana")
    service = app.app[keys.CALLS]
    party = f"c:{customer.ticket_id}"
    stale = service.hub.get(party)
    assert stale is not None
    new = await customer.connect(app, pc="live")
    kit.sockets.append(new.ws)
    await new.expect("welcome")
    assert await customer_ws.closed() == 4409
    # Drop with the old socket's generation, as its late cleanup would: nothing changes.
    held = (service.hub.generation_key(party), stale.generation)
    assert not await service.presence.drop(call, Role.CUSTOMER, held_by=held)
    assert await service.presence.is_present(call, Role.CUSTOMER)


async def test_a_socket_closing_as_replaced_keeps_4409_whatever_closes_it_next(kit: CallKit) -> None:
    # E.g. its hello was still running when the newer socket took over, and then failed (1001).
    app = await kit.app()
    await kit.agent(app, ready=False)  # someone serves ASL: the customer may wait
    customer, peer, _ = await kit.connected_customer(app)
    conn = app.app[keys.CALLS].hub.get(f"c:{customer.ticket_id}")
    assert conn is not None
    conn.close_soon(CloseCode.REPLACED, "replaced by a newer connection")
    await conn.close(CloseCode.GOING_AWAY, "backend_unavailable")
    assert await peer.closed() == 4409


async def test_a_takeover_whose_replace_was_lost_still_closes_the_old_socket(kit: CallKit) -> None:
    """A newer connection elsewhere whose bus message never arrived (published while this process
    resubscribed after a Redis restart): the next presence round sees the newer generation, 4409."""
    app = await kit.app()
    await kit.agent(app, ready=False)  # ASL is served, nobody takes the customer
    customer, peer, _ = await kit.connected_customer(app)
    hub = app.app[keys.CALLS].hub
    party = customer_party(customer.ticket_id)
    assert hub.get(party) is not None
    await kit.redis.incr(hub.generation_key(party))  # claimed elsewhere, never heard of here
    assert await peer.closed() == CloseCode.REPLACED
