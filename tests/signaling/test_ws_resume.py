"""Resuming: a waiting customer keeps their place, a dropped call comes back to the same agent, a dead
process loses nothing (real servers, a real `signlink serve` process killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from signlink.config import PROJECT_ROOT, Settings
from signlink.queue.models import AgentStatus, TicketState
from signlink.web import keys
from tests.signaling.call_client import App, CallKit, Customer, Peer, in_call, kit
from tests.support.redis_proc import RedisProcess, free_port

__all__ = ["kit"]


async def test_a_waiting_customer_who_reconnects_keeps_their_place(kit: CallKit) -> None:
    app, other = await kit.app(), await kit.app()
    await kit.agent(app, ready=False)  # online but away: everyone waits
    first = await kit.connected_customer(app)
    customer, peer, welcome = await kit.connected_customer(app)
    await kit.connected_customer(app)
    assert welcome["state"]["position"] == 2
    await peer.ws.close()
    # The same process...
    again = await customer.connect()
    kit.sockets.append(again.ws)
    assert (await again.expect("welcome"))["state"] == {
        "ticket_id": customer.ticket_id,
        "state": "waiting",
        "position": 2,
        "estimated_wait_s": None,  # the only agent is away
    }
    await again.ws.close()
    # ... or another one.
    elsewhere = await customer.connect(other)
    kit.sockets.append(elsewhere.ws)
    assert (await elsewhere.expect("welcome"))["state"]["position"] == 2
    # When the customer ahead leaves, the reconnected socket hears its new place.
    await first[1].send({"type": "leave"})
    assert (await first[1].expect("left"))["reason"] == "left"
    update = await elsewhere.expect("queue")
    assert (update["position"], update["waiting_ahead"]) == (1, 0)


async def cut(peer: Peer) -> None:
    """Drop the socket without a close handshake (a network cut, a killed tab)."""
    connection = peer.ws._response.connection  # the raw transport, to cut it
    assert connection is not None and connection.transport is not None
    connection.transport.abort()


@pytest.mark.parametrize("how", ["close", "cut"])
async def test_a_call_survives_both_sockets_dropping(kit: CallKit, how: str) -> None:
    agent_app, customer_app = await kit.app(), await kit.app()
    agent_ws, customer_ws, agent_session, _, customer = await in_call(kit, agent_app, customer_app)
    session_id = agent_session["session_id"]
    queue = agent_app.app[keys.QUEUE]

    # The customer's socket drops; the agent is told; the customer comes back with a live pc.
    await (customer_ws.ws.close() if how == "close" else cut(customer_ws))
    assert (await agent_ws.expect("peer", state="disconnected"))["pc"] == "new"
    back = await customer.connect(customer_app, pc="live")
    kit.sockets.append(back.ws)
    welcome = await back.expect("welcome")
    assert welcome["state"]["state"] == "in_call"
    assert welcome["state"]["session"]["session_id"] == session_id
    assert welcome["state"]["session"]["peer"] == {"name": "Ana Li", "connected": True}
    assert await agent_ws.expect("peer", state="rejoined") == {
        "type": "peer",
        "state": "rejoined",
        "pc": "live",
    }

    # Now the agent's socket drops and comes back (a reloaded console: pc new).
    agent_client = agent_ws
    await (agent_client.ws.close() if how == "close" else cut(agent_client))
    assert (await back.expect("peer", state="disconnected"))["state"] == "disconnected"
    agent = await _reconnect_agent(kit, agent_app)
    welcome = await agent.expect("welcome")
    assert welcome["state"]["agent"]["status"] == "in_call"
    assert welcome["state"]["session"]["session_id"] == session_id
    assert welcome["state"]["session"]["peer"]["connected"] is True
    assert (await back.expect("peer", state="rejoined"))["pc"] == "new"

    # The same session, relaying both ways; the queue never took the ticket back.
    await agent.send({"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0\r\n"}}})
    assert (await back.expect("signal"))["data"]["sdp"]["type"] == "offer"
    await back.send({"type": "chat", "id": "after", "text": "I am back"})
    assert (await agent.expect("chat"))["text"] == "I am back"
    ticket = await queue.get_ticket(customer.ticket_id)
    assert (ticket.state, ticket.session_id, ticket.agent_id) == (TicketState.IN_CALL, session_id, "ana")
    assert (await queue.get_agent("ana")).status is AgentStatus.IN_CALL


async def _reconnect_agent(kit: CallKit, app: App) -> Peer:
    """Ana again, from the same browser (her login cookie), on `app`."""
    own = await kit.logged_in(app, "ana")
    peer = Peer(await own.ws_connect("/ws"))
    kit.sockets.append(peer.ws)
    await peer.send({"type": "hello", "role": "agent", "pc": "new"})
    return peer


async def test_a_call_whose_side_does_not_return_ends_by_system_after_the_grace(kit: CallKit) -> None:
    app = await kit.app(heartbeat_grace_s=0.6)
    agent_ws, customer_ws, agent_session, _, customer = await in_call(kit, app, app)
    await customer_ws.ws.close()
    await agent_ws.expect("peer", state="disconnected")
    ended = await agent_ws.expect("ended")
    assert ended == {"type": "ended", "session_id": agent_session["session_id"], "by": "system"}
    await agent_ws.expect("agent", status="wrap_up")
    ticket = await app.app[keys.QUEUE].get_ticket(customer.ticket_id)
    assert ticket.state is TicketState.ENDED  # not back in the queue


async def test_an_agent_who_reconnects_gets_their_open_offer_again(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    customer, _peer, _ = await kit.connected_customer(app)
    offer = await agent_ws.expect("offer")
    await agent_ws.ws.close()
    again = await _reconnect_agent(kit, app)
    welcome = await again.expect("welcome")
    assert welcome["state"]["agent"]["status"] == "on_offer"
    assert welcome["state"]["offer"]["offer_id"] == offer["offer_id"]
    assert welcome["state"]["offer"]["ticket"]["id"] == customer.ticket_id
    await again.send({"type": "accept", "offer_id": offer["offer_id"]})
    await again.expect("session")


# A process that dies


@pytest.fixture
def serve_process(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m signlink serve` on the test Redis; yields its base URL and the process."""
    port = free_port()
    env = {
        **os.environ,
        "SIGNLINK_PORT": str(port),
        "SIGNLINK_REDIS_URL": settings.redis_url,
        "SIGNLINK_CALL_PRESENCE_INTERVAL_S": "0.2",
        "SIGNLINK_LOG_LEVEL": "WARNING",
        "SIGNLINK_MODEL_DIR": str(PROJECT_ROOT / "models"),
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "signlink", "serve"], env=env, stdout=log, stderr=log)
    yield f"http://127.0.0.1:{port}", process
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()
    log.close()


async def _wait_up(session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60):
        while True:
            assert process.poll() is None, "signlink serve exited"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_a_killed_process_loses_nothing(
    kit: CallKit, redis: Redis, redis_server: RedisProcess, serve_process: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, process = serve_process
    survivor = await kit.app()
    async with aiohttp.ClientSession() as http:
        await _wait_up(http, url, process)
        _agent, agent_ws, _ = await kit.agent(survivor)
        # A customer in a call and one waiting, both on the process that will die.
        calling = await _join(http, url)
        caller = Peer(await http.ws_connect(f"{url}/ws"))
        await caller.send({"type": "hello", "role": "customer", "token": calling.token})
        await caller.expect("welcome")
        offer = await agent_ws.expect("offer")
        await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
        session_id = (await agent_ws.expect("session"))["session_id"]
        await caller.expect("session")
        waiting = await _join(http, url)
        waiter = Peer(await http.ws_connect(f"{url}/ws"))
        await waiter.send({"type": "hello", "role": "customer", "token": waiting.token})
        assert (await waiter.expect("welcome"))["state"]["position"] == 1

        process.send_signal(signal.SIGKILL)
        process.wait()
        # The agent hears the customer is gone (their process stopped vouching for them).
        await agent_ws.expect("peer", state="disconnected", within=10)

        # Both customers reconnect to the surviving process and find everything as it was.
        back = await Customer(survivor, calling.token, calling.ticket_id).connect(survivor, pc="live")
        kit.sockets.append(back.ws)
        state = (await back.expect("welcome"))["state"]
        assert (state["state"], state["session"]["session_id"]) == ("in_call", session_id)
        assert (await agent_ws.expect("peer", state="rejoined"))["pc"] == "live"
        await back.send({"type": "signal", "data": {"candidate": None}})
        assert (await agent_ws.expect("signal"))["data"] == {"candidate": None}
        again = await Customer(survivor, waiting.token, waiting.ticket_id).connect(survivor)
        kit.sockets.append(again.ws)
        assert (await again.expect("welcome"))["state"]["position"] == 1


async def _join(http: aiohttp.ClientSession, url: str) -> Customer:
    async with http.post(f"{url}/api/tickets", json={"language": "ASL", "topic": "phone"}) as response:
        body = await response.json()
        assert response.status == 201, body
    return Customer(None, body["token"], body["ticket_id"])  # type: ignore[arg-type]


async def test_an_agent_who_reconnects_during_wrap_up_is_told_which_session(kit: CallKit) -> None:
    app = await kit.app()
    agent_ws, _customer_ws, session, _, _customer = await in_call(kit, app, app)
    await agent_ws.send({"type": "end"})
    await agent_ws.expect("ended")
    await agent_ws.ws.close()
    again = await _reconnect_agent(kit, app)
    state = (await again.expect("welcome"))["state"]
    assert state["agent"]["status"] == "wrap_up"
    assert state["wrap_up"] == {"session_id": session["session_id"]}
    await again.send({"type": "wrap_up", "session_id": session["session_id"], "outcome": "resolved"})
    assert (await again.expect("saved"))["what"] == "wrap_up"
    await again.expect("agent", status="available")


async def test_shutting_a_process_down_closes_its_sockets_1001_and_the_call_is_held(kit: CallKit) -> None:
    agent_app, customer_app = await kit.app(), await kit.app()
    agent_ws, customer_ws, session, _, customer = await in_call(kit, agent_app, customer_app)
    await customer_app.server.close()  # the server's shutdown (the test client's sockets stay open)
    assert await customer_ws.closed() == 1001
    await agent_ws.expect("peer", state="disconnected")
    back = await customer.connect(agent_app, pc="live")
    kit.sockets.append(back.ws)
    state = (await back.expect("welcome"))["state"]
    assert state["session"]["session_id"] == session["session_id"]
    assert (await agent_ws.expect("peer", state="rejoined"))["pc"] == "live"


async def test_open_sockets_keep_their_place_without_pings_and_closed_ones_are_given_up(kit: CallKit) -> None:
    # The server vouches for the sockets it holds (issue 11): pings are no longer the only heartbeat.
    app = await kit.app(heartbeat_grace_s=1.0, sweep_interval_s=0.1)
    _agent, agent_ws, _ = await kit.agent(app, ready=False)
    gone, gone_ws, _ = await kit.connected_customer(app)
    silent, silent_ws, welcome = await kit.connected_customer(app)
    assert welcome["state"]["position"] == 2
    await gone_ws.ws.close()  # a closed tab: nobody holds its socket any more
    update = await silent_ws.expect("queue", position=1, within=10)  # the closed one was ahead
    assert update["waiting_ahead"] == 0
    await asyncio.sleep(1.5)  # past the grace again, and nobody pinged
    queue = app.app[keys.QUEUE]
    assert (await queue.get_ticket(gone.ticket_id)).state is TicketState.ABANDONED
    assert (await queue.get_ticket(silent.ticket_id)).state is TicketState.WAITING
    assert (await queue.get_agent("ana")).status is AgentStatus.AWAY  # still online, never pinged
    assert not [m for m in silent_ws.seen + agent_ws.seen if m["type"] == "left"]
