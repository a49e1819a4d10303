"""A cross-process hammer: customers and agents as real WebSocket clients of several `signlink serve`
processes on one Redis, doing random documented operations, watched from the outside.

What the clients see is the evidence: an agent offered a second customer while one offer is open, a
ticket in two calls, a replaced socket not closed 4409, a customer who never left found abandoned or
unknown. `settle()` then stops the agents and asks every waiting customer its place (a takeover hello)
to check positions 1..n per line, in the order they joined. Used by tests/faults/test_hammer.py (short,
no faults) and benchmarks/soak.py (long, with Redis and a process killed).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from signlink.config import PROJECT_ROOT, Settings

LANGS = ("ASL", "BSL")
TOPICS = ("phone", "pc")
TAKEOVER_WAIT_S = 10.0  # a replaced socket must be closed 4409 within this


def server_settings(redis_url: str, *, grace_s: float = 10.0) -> Settings:
    """The processes' settings: short offers so offers pass on often, no request limits (one address)."""
    return Settings(
        redis_url=redis_url,
        redis_prefix="wshammer",
        model_dir=PROJECT_ROOT / "models",
        sign_languages=LANGS,
        topics=TOPICS,
        offer_timeout_s=2.0,
        offer_retry_s=0.5,
        heartbeat_grace_s=grace_s,
        sweep_interval_s=0.2,
        call_presence_interval_s=0.5,
        limit_tickets_per_address=0,
        limit_tickets_overall=0,
        login_max_per_address=100_000,
        login_max_per_user=100_000,
        login_max_per_user_overall=100_000,
    )


@dataclass
class Tally:
    """What the clients observed. `violations` should stay empty."""

    ops: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # documented refusals (503 in an outage...)
    violations: list[str] = field(default_factory=list)
    joined_at: dict[str, float] = field(default_factory=dict)  # ticket id -> 201 received (monotonic)
    offered_at: dict[str, float] = field(default_factory=dict)  # ticket id -> first offer seen
    session_of: dict[str, str] = field(default_factory=dict)  # ticket id -> its call's session id
    left: set[str] = field(default_factory=set)  # tickets whose customer sent `leave` (maybe lost)
    left_confirmed: set[str] = field(default_factory=set)  # ... and heard `left`
    lost: list[str] = field(default_factory=list)

    def bad(self, text: str) -> None:
        self.violations.append(text)


class Sock:
    """One WebSocket and its reader task; `on_message` gets every JSON message."""

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, on_message: Callable[[Sock, dict[str, Any]], None]
    ):
        self.ws = ws
        self.on_message = on_message
        self.close_code: int | None = None
        self.welcome: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.done = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                data: dict[str, Any] = json.loads(msg.data)
                if data["type"] == "welcome" and not self.welcome.done():
                    self.welcome.set_result(data)
                self.on_message(self, data)
        except (aiohttp.ClientError, asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self.close_code = self.ws.close_code
            self.done.set()
            if not self.welcome.done():
                self.welcome.set_exception(ConnectionError(f"closed {self.close_code} before welcome"))

    async def send(self, message: dict[str, Any]) -> bool:
        try:
            await self.ws.send_str(json.dumps(message))
            return True
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            return False

    async def drop(self) -> None:
        await self.ws.close(code=3000, message=b"hammer: connection cut")
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    @property
    def open(self) -> bool:
        return not self.done.is_set()


class Party:
    """A customer or an agent: one current socket, reconnects with backoff, takeovers watched."""

    def __init__(self, world: World, name: str, rng: random.Random) -> None:
        self.world = world
        self.name = name
        self.rng = rng
        self.sock: Sock | None = None

    def hello(self) -> dict[str, Any]:
        raise NotImplementedError

    async def step(self, session: aiohttp.ClientSession) -> None:
        raise NotImplementedError

    def handle(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def on_message(self, sock: Sock, data: dict[str, Any]) -> None:
        if data["type"] == "welcome":
            self.sock = sock  # the newest hello wins; a replaced socket's messages are not ours
        elif sock is not self.sock:
            return
        elif data["type"] == "error":
            self.world.tally.refused[f"error {data.get('ref')} {data['code']}"] += 1
        self.handle(data)

    async def connect(
        self, session: aiohttp.ClientSession, *, takeover: bool = False
    ) -> dict[str, Any] | None:
        """Hello on a random process (retried with backoff on 1001, 503 and refused connections)."""
        old = self.sock if takeover else None
        pause = 0.2
        deadline = time.monotonic() + self.world.connect_patience_s
        while time.monotonic() < deadline:
            base = self.rng.choice(self.world.bases)
            try:
                ws = await session.ws_connect(f"{base}/ws", timeout=aiohttp.ClientWSTimeout(ws_close=2))
            except (aiohttp.ClientError, OSError, TimeoutError):
                self.world.tally.refused["connect"] += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 3.0)
                continue
            sock = Sock(ws, self.on_message)
            await sock.send(self.hello())
            try:
                welcome = await asyncio.wait_for(asyncio.shield(sock.welcome), 15)
            except (ConnectionError, TimeoutError):
                code = sock.close_code
                await sock.drop()
                if code in (4404, 4401, 4403, 4400):
                    return {"closed": code}
                self.world.tally.refused[f"hello {code}"] += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 3.0)
                continue
            self.sock = sock
            if old is not None and old.open:
                self.world.watch(self._replaced(old))
            return welcome
        self.world.tally.bad(f"{self.name}: no welcome within {self.world.connect_patience_s} s")
        return None

    async def _replaced(self, old: Sock) -> None:
        try:
            await asyncio.wait_for(old.done.wait(), TAKEOVER_WAIT_S)
        except TimeoutError:
            self.world.tally.bad(f"{self.name}: replaced socket still open after {TAKEOVER_WAIT_S} s")
            await old.drop()
            return
        if old.close_code != 4409:
            self.world.tally.bad(f"{self.name}: replaced socket closed {old.close_code}, not 4409")

    async def drop_and_return(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        if self.sock:
            await self.sock.drop()
        await asyncio.sleep(self.rng.uniform(0.2, 1.5))
        return await self.connect(session)


class Customer(Party):
    def __init__(self, world: World, name: str, rng: random.Random) -> None:
        super().__init__(world, name, rng)
        self.token = ""
        self.ticket = ""
        self.state = "none"  # none, waiting, in_call, finished
        self.session_id = ""
        self.leaving: asyncio.Future[str] | None = None  # the answer to a `leave`: "left" or an error

    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "role": "customer", "token": self.token, "pc": "new"}

    def handle(self, data: dict[str, Any]) -> None:
        kind = data["type"]
        if kind == "welcome":
            self._take(data["state"])
        elif kind == "session":
            self.state, self.session_id = "in_call", data["session_id"]
        elif kind == "error" and data.get("ref") == "leave" and self.leaving and not self.leaving.done():
            self.leaving.set_result(data["code"])
        elif kind in ("ended", "left"):
            if kind == "left" and self.leaving and not self.leaving.done():
                self.leaving.set_result("left")
            self.state = "finished"
            if kind == "left" and data.get("reason") == "timeout":
                self.world.tally.lost.append(f"{self.ticket} timed out of the queue")
            if kind == "ended" and data.get("by") == "system":
                self.world.tally.bad(f"{self.ticket}: call {data['session_id']} ended by the system")

    def _take(self, state: dict[str, Any]) -> None:
        if state["state"] == "waiting":
            self.state = "waiting"
        elif state["state"] == "in_call":
            self.state, self.session_id = "in_call", state["session"]["session_id"]
        else:
            if state["state"] == "abandoned" and self.ticket not in self.world.tally.left:
                self.world.tally.lost.append(f"{self.ticket} abandoned without leaving")
            self.state = "finished"

    async def join(self, session: aiohttp.ClientSession) -> None:
        base = self.rng.choice(self.world.bases)
        body = {"language": self.rng.choice(LANGS), "topic": self.rng.choice(TOPICS)}
        try:
            async with session.post(f"{base}/api/tickets", json=body) as response:
                if response.status != 201:
                    self.world.tally.refused[f"join {response.status}"] += 1
                    return
                data = await response.json()
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.world.tally.refused["join connect"] += 1
            return
        if data["ticket_id"] in self.world.tally.joined_at:
            self.world.tally.bad(f"ticket {data['ticket_id']} issued twice")
        self.world.tally.joined_at[data["ticket_id"]] = time.monotonic()
        self.world.lines[data["ticket_id"]] = f"{body['language']}/{body['topic']}"
        self.token, self.ticket, self.state = data["token"], data["ticket_id"], "waiting"
        await self._hello_checked(session)

    async def _hello_checked(self, session: aiohttp.ClientSession, *, takeover: bool = False) -> None:
        welcome = await self.connect(session, takeover=takeover)
        if welcome and "closed" in welcome:
            self.world.tally.lost.append(f"{self.ticket}: hello closed {welcome['closed']}")
            self.state = "finished"

    async def step(self, session: aiohttp.ClientSession) -> None:
        tally = self.world.tally
        if self.state in ("none", "finished"):
            tally.ops["join"] += 1
            return await self.join(session)
        roll = self.rng.random()
        sock = self.sock
        if sock is None or not sock.open:
            tally.ops["reconnect"] += 1
            return await self._hello_checked(session)
        if roll < 0.45:
            tally.ops["ping"] += 1
            await sock.send({"type": "ping"})
        elif roll < 0.60:
            tally.ops["drop"] += 1
            if sock:
                await sock.drop()
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))
            await self._hello_checked(session)
        elif roll < 0.68:
            tally.ops["takeover"] += 1
            await self._hello_checked(session, takeover=True)
        elif roll < 0.72 and self.state == "waiting":
            tally.ops["leave"] += 1
            await self._leave(sock)
        elif roll < 0.80 and self.state == "in_call":
            tally.ops["end"] += 1
            await sock.send({"type": "end"})

    async def _leave(self, sock: Sock) -> None:
        """Leave and wait for the answer: `left`, or an error; silence on an open socket is a fault."""
        tally = self.world.tally
        self.leaving = asyncio.get_running_loop().create_future()
        tally.left.add(self.ticket)  # from now on the ticket may be gone (the answer can be lost)
        if not await sock.send({"type": "leave"}):
            return
        closed = asyncio.ensure_future(sock.done.wait())
        either: set[asyncio.Future[Any]] = {self.leaving, closed}
        await asyncio.wait(either, timeout=TAKEOVER_WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if self.leaving.done() and self.leaving.result() == "left":
            tally.left_confirmed.add(self.ticket)
        elif self.leaving.done():
            tally.left.discard(self.ticket)  # refused (e.g. backend_unavailable): still queued
        elif not self.leaving.done() and sock.open:
            tally.bad(f"{self.ticket}: no answer to leave within {TAKEOVER_WAIT_S} s")


class Agent(Party):
    def __init__(self, world: World, name: str, rng: random.Random) -> None:
        super().__init__(world, name, rng)
        self.offer: str | None = None  # the open offer, as the server last said
        self.answered: str | None = None  # the offer this client already acted on
        self.session_id = ""
        self.wrap_up = ""
        self.status = "away"

    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "role": "agent", "pc": "new"}

    def handle(self, data: dict[str, Any]) -> None:
        kind = data["type"]
        tally = self.world.tally
        if kind == "welcome":
            state = data["state"]
            self.status = state["agent"]["status"]
            self.offer = state["offer"]["offer_id"] if state.get("offer") else None
            self.session_id = state["session"]["session_id"] if state.get("session") else ""
            self.wrap_up = state["wrap_up"]["session_id"] if state.get("wrap_up") else ""
        elif kind == "offer":
            if self.offer and self.offer != data["offer_id"]:
                tally.bad(f"{self.name} offered {data['offer_id']} while {self.offer} is open")
            self.offer = data["offer_id"]
            tally.offered_at.setdefault(data["ticket"]["id"], time.monotonic())
        elif kind == "offer_ended":
            if self.offer == data["offer_id"]:
                self.offer = None
        elif kind == "session":
            self.offer, self.session_id = None, data["session_id"]
            ticket = data["ticket"]["id"]
            known = tally.session_of.setdefault(ticket, data["session_id"])
            if known != data["session_id"]:
                tally.bad(f"ticket {ticket} in two calls: {known} and {data['session_id']}")
        elif kind == "ended":
            self.session_id, self.wrap_up = "", data["session_id"]
        elif kind == "saved" and data.get("what") == "wrap_up":
            self.wrap_up = ""
        elif kind == "agent":
            self.status = data["status"]

    async def step(self, session: aiohttp.ClientSession) -> None:
        tally = self.world.tally
        sock = self.sock
        if sock is None or not sock.open:
            tally.ops["reconnect"] += 1
            await self.connect(session)
            return
        roll = self.rng.random()
        if self.offer and self.offer != self.answered:
            offer = self.answered = self.offer
            if roll < 0.75:
                tally.ops["accept"] += 1
                await sock.send({"type": "accept", "offer_id": offer})
            elif roll < 0.9:
                tally.ops["decline"] += 1
                await sock.send({"type": "decline", "offer_id": offer})
            else:
                tally.ops["ignore offer"] += 1  # it times out
        elif self.session_id and roll < 0.3:
            tally.ops["end"] += 1
            await sock.send({"type": "end", "session_id": self.session_id})
        elif self.wrap_up:
            tally.ops["wrap_up"] += 1
            nxt = "available" if roll < 0.85 else "away"
            await sock.send(
                {"type": "wrap_up", "session_id": self.wrap_up, "outcome": "resolved", "next": nxt}
            )
        elif roll < 0.35:
            tally.ops["ping"] += 1
            await sock.send({"type": "ping"})
        elif roll < 0.55 and not self.session_id:
            tally.ops["status"] += 1
            status = "available" if roll < 0.5 else "away"
            await sock.send({"type": "status", "status": status})
        elif roll < 0.63:
            tally.ops["drop"] += 1
            await self.drop_and_return(session)
        elif roll < 0.68:
            tally.ops["takeover"] += 1
            await self.connect(session, takeover=True)


@dataclass
class World:
    """Everyone in the hammer, the processes' base URLs, what was seen."""

    bases: list[str]
    seed: int
    tally: Tally = field(default_factory=Tally)
    lines: dict[str, str] = field(default_factory=dict)  # ticket id -> language/topic
    connect_patience_s: float = 60.0
    customers: list[Customer] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)
    _watchers: set[asyncio.Task[None]] = field(default_factory=set)

    def watch(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    def session(self, name: str) -> aiohttp.ClientSession:
        """One HTTP client per party (its own cookie jar: cookies go to every process on 127.0.0.1)."""
        if name not in self.sessions:
            self.sessions[name] = aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=20)
            )
        return self.sessions[name]

    async def login_agents(self, usernames: Sequence[str], password: str) -> None:
        for i, username in enumerate(usernames):
            rng = random.Random(f"{self.seed}-agent-{i}")
            agent = Agent(self, username, rng)
            http = self.session(username)
            form = {"username": username, "password": password}
            async with http.post(
                f"{self.bases[i % len(self.bases)]}/login", data=form, allow_redirects=False
            ) as r:
                assert r.status == 303, f"login of {username}: {r.status}"
            await agent.connect(http)
            self.agents.append(agent)

    def add_customers(self, count: int) -> None:
        for i in range(count):
            self.customers.append(
                Customer(self, f"customer-{i:03d}", random.Random(f"{self.seed}-customer-{i}"))
            )

    async def run(self, seconds: float) -> None:
        until = time.monotonic() + seconds

        async def loop(party: Party) -> None:
            http = self.session(party.name)
            while time.monotonic() < until:
                await party.step(http)
                await asyncio.sleep(party.rng.uniform(0.1, 0.8))

        parties: list[Party] = [*self.agents, *self.customers]
        await asyncio.gather(*(loop(p) for p in parties))

    async def settle(self) -> dict[str, Any]:
        """Stop serving: agents end calls, wrap up and go away; then each waiting customer's place."""
        for _ in range(3):
            for agent in self.agents:
                sock = agent.sock
                if sock is None or not sock.open:
                    await agent.connect(self.session(agent.name))
                    sock = agent.sock
                assert sock
                if agent.session_id:
                    await sock.send({"type": "end", "session_id": agent.session_id})
                if agent.wrap_up:
                    await sock.send(
                        {"type": "wrap_up", "session_id": agent.wrap_up, "outcome": "other", "next": "away"}
                    )
                await sock.send({"type": "status", "status": "away"})
            await asyncio.sleep(1.0)
        for customer in self.customers:
            if customer.state == "in_call":
                sock = customer.sock
                if sock and sock.open:
                    await sock.send({"type": "end"})
        await asyncio.sleep(1.5)
        return await self._places()

    async def _places(self) -> dict[str, Any]:
        """A takeover hello per unfinished customer: their state and position, checked."""
        tally = self.tally
        places: dict[str, list[tuple[str, int]]] = defaultdict(list)
        states: Counter[str] = Counter()
        for customer in self.customers:
            if not customer.ticket:
                continue
            welcome = await self.customers_welcome(customer)
            if welcome is None:
                continue
            state = welcome["state"]
            states[state["state"]] += 1
            ticket = customer.ticket
            if state["state"] == "abandoned" and ticket not in tally.left:
                continue  # counted lost by the customer itself
            if state["state"] == "waiting":
                if ticket in tally.left_confirmed:
                    tally.bad(f"{ticket} heard `left` but is still waiting")
                places[self.lines[ticket]].append((ticket, int(state["position"])))
            if state["state"] == "in_call":
                tally.bad(f"{ticket} still in a call after every agent ended theirs")
        for line, entries in places.items():
            positions = [p for _, p in sorted(entries)]  # ticket ids count up in join order
            if positions != list(range(1, len(entries) + 1)):
                tally.bad(f"{line}: positions by join order {positions}, expected 1..{len(entries)}")
        await asyncio.gather(*list(self._watchers), return_exceptions=True)
        return {"states": dict(states), "waiting": {k: len(v) for k, v in places.items()}}

    async def customers_welcome(self, customer: Customer) -> dict[str, Any] | None:
        welcome = await customer.connect(self.session(customer.name), takeover=True)
        if welcome is None:
            return None
        if "closed" in welcome:
            self.tally.lost.append(f"{customer.ticket}: hello closed {welcome['closed']}")
            return None
        return welcome

    async def close(self) -> None:
        for party in [*self.agents, *self.customers]:
            if party.sock and party.sock.open:
                await party.sock.drop()
        for http in self.sessions.values():
            await http.close()
