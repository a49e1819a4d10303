"""Test clients for the call: customers (ticket token) and agents (staff cookie) over real WebSockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.web.app import create_app
from tests.support.staff import Client, add_account, login

App = TestClient[Any, Any]
WAIT_S = 5.0
FAST = {"call_presence_interval_s": 0.2, "heartbeat_grace_s": 30.0}


@dataclass
class Peer:
    """One WebSocket with a buffer: `expect` waits for a message type, keeping everything seen."""

    ws: aiohttp.ClientWebSocketResponse
    seen: list[dict[str, Any]] = field(default_factory=list)
    _buffer: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def _next(self, within: float) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=within)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket ended: {msg.type.name} {self.ws.close_code}")
        data: dict[str, Any] = json.loads(msg.data)
        self.seen.append(data)
        return data

    async def expect(self, kind: str, within: float = WAIT_S, **match: Any) -> dict[str, Any]:
        """The first message of `kind` (with the given field values), skipping any other."""
        for i, data in enumerate(self._buffer):
            if data["type"] == kind and all(data.get(k) == v for k, v in match.items()):
                return self._buffer.pop(i)
        async with asyncio.timeout(within):
            while True:
                data = await self._next(within)
                if data["type"] == kind and all(data.get(k) == v for k, v in match.items()):
                    return data
                self._buffer.append(data)

    async def next(self, within: float = WAIT_S) -> dict[str, Any]:
        """The very next message (buffered ones first)."""
        if self._buffer:
            return self._buffer.pop(0)
        return await self._next(within)

    async def closed(self, within: float = WAIT_S) -> int | None:
        """Wait for the server to close the socket; its close code."""
        async with asyncio.timeout(within):
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.seen.append(json.loads(msg.data))
                    continue
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    return int(msg.data)  # the code in the server's close frame (what a browser reports)
                return self.ws.close_code  # CLOSING, CLOSED, ERROR

    async def ping(self) -> None:
        """A round trip: every message sent before it has been handled once the pong is back."""
        await self.send({"type": "ping"})
        await self.expect("pong")


@dataclass
class Customer:
    app: App
    token: str
    ticket_id: str
    peer: Peer | None = None

    async def connect(self, app: App | None = None, pc: str = "new") -> Peer:
        ws = await (app or self.app).ws_connect("/ws")
        self.peer = Peer(ws)
        await self.peer.send({"type": "hello", "role": "customer", "token": self.token, "pc": pc})
        return self.peer


@dataclass
class Agent:
    app: App
    username: str
    peer: Peer | None = None

    async def connect(self, pc: str = "new", headers: dict[str, str] | None = None) -> Peer:
        ws = await self.app.ws_connect("/ws", headers=headers)
        self.peer = Peer(ws)
        await self.peer.send({"type": "hello", "role": "agent", "pc": pc})
        return self.peer


class CallKit:
    """Builds apps on the test Redis, agents (real accounts, real login) and customers (real POST)."""

    def __init__(self, aiohttp_client: AiohttpClient, settings: Settings, redis: Redis) -> None:
        self._client = aiohttp_client
        self.settings = settings
        self.redis = redis
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def app(self, **changes: Any) -> App:
        return await self._client(create_app(self.settings.replace(**{**FAST, **changes})))

    async def agent(
        self,
        app: App,
        username: str = "ana",
        *,
        languages: tuple[str, ...] = ("CSL", "ASL"),
        ready: bool = True,
    ) -> tuple[Agent, Peer, dict[str, Any]]:
        """A logged-in agent on `app`, connected (and available if `ready`); also their welcome."""
        await add_account(self.settings, self.redis, username, languages=languages, topics=("phone", "pc"))
        agent = Agent(await self.logged_in(app, username), username)
        peer = await agent.connect()
        self.sockets.append(peer.ws)
        welcome = await peer.expect("welcome")
        if ready:
            await peer.send({"type": "status", "status": "available"})
            await peer.expect("agent", status="available")
        return agent, peer, welcome

    async def logged_in(self, app: App, username: str) -> Client:
        """A client of its own for `app` (its cookie jar holds this login)."""
        own = cast(Client, await self._client(app.server))
        response = await login(own, username)
        assert response.status == 303, await response.text()
        return own

    async def customer(self, app: App, language: str = "ASL", topic: str = "phone", **extra: Any) -> Customer:
        response = await app.post("/api/tickets", json={"language": language, "topic": topic, **extra})
        body = await response.json()
        assert response.status == 201, body
        return Customer(app, body["token"], body["ticket_id"])

    async def connected_customer(self, app: App, **kw: Any) -> tuple[Customer, Peer, dict[str, Any]]:
        customer = await self.customer(app, **kw)
        peer = await customer.connect()
        self.sockets.append(peer.ws)
        return customer, peer, await peer.expect("welcome")

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()


@pytest.fixture
async def kit(aiohttp_client: AiohttpClient, settings: Settings, redis: Redis) -> AsyncIterator[CallKit]:
    k = CallKit(aiohttp_client, settings, redis)
    yield k
    await k.close()


async def in_call(
    kit: CallKit, agent_app: App, customer_app: App
) -> tuple[Peer, Peer, dict[str, Any], dict[str, Any], Customer]:
    """An agent on `agent_app` and a customer on `customer_app` in a call: (agent, customer, their
    `session` messages, the customer)."""
    _agent, agent_ws, _ = await kit.agent(agent_app)
    customer, customer_ws, _ = await kit.connected_customer(customer_app)
    offer = await agent_ws.expect("offer")
    await agent_ws.send({"type": "accept", "offer_id": offer["offer_id"]})
    agent_session = await agent_ws.expect("session")
    customer_session = await customer_ws.expect("session")
    return agent_ws, customer_ws, agent_session, customer_session, customer
