"""QueueStore: the one class that owns the queue's Redis keys. Every change is one Lua script.

Keys (named by the Redis seam, signlink.redisio.Keyspace: Q = "<root>:queue", root = the prefix, or
"{prefix}" on Redis Cluster; the events stream is "<root>:events"):
    Q:seq            hash   counters for ticket / offer / session ids
    Q:tickets        hash   ticket id -> JSON record        Q:tokens  hash  sha256(customer token) -> id
    Q:agents         hash   agent id -> JSON record         Q:offers  hash  offer id -> JSON record
    Q:sessions       hash   session id -> ticket id
    Q:offer_due      zset   open offers by deadline         Q:retry   zset  agents pausing after a miss
    Q:ticket_seen    zset   waiting/offered tickets by last heartbeat
    Q:agent_seen     zset   online agents (not in a call) by last heartbeat
    Q:done           zset   ended/abandoned tickets by end time (purged after finished_ticket_keep_s)
    Q:cap            hash   online / serving agent counts per language and pair
    Q:overlap        hash   online agents skilled for both of two pairs
    Q:stats          hash   the estimator's measurements and day totals
    Q:agent_counts   hash   agents per status
    Q:wait:L:T       zset   waiting tickets of pair (L, T) by score (ordering.py)
    Q:age:L:T        zset   waiting + offered tickets of the pair by (effective) join time
    Q:idle:L:T       zset   available agents skilled for the pair by available-since
    Q:reply:<call>   string a write script's reply for a minute (a retried call answers it again)
Each script gets only the keys its code can touch (scripts.manifest), by name. docs/queue.md has the
full design.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from signlink.config import Settings
from signlink.errors import BackendUnavailable, BadRequest, Conflict, Forbidden, NotFound, SignlinkError
from signlink.queue import scripts, validation
from signlink.queue.clock import Clock, RedisClock
from signlink.queue.consumer import StreamConsumer
from signlink.queue.errors import AlreadyQueued, Closed, NotServed, OfferExpired
from signlink.queue.estimator import WaitStats, expected_wait
from signlink.queue.events import QueueEvent, parse_event
from signlink.queue.models import (
    Agent,
    AgentStatus,
    AgentUpdate,
    EndedBy,
    JoinRequest,
    Offer,
    Placed,
    Position,
    QueueLine,
    QueueSnapshot,
    Session,
    SweepResult,
    Ticket,
    TicketState,
)
from signlink.queue.ordering import class_offsets
from signlink.redisio import Keyspace, RedisClient, is_cluster, keyspace_for

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


def token_hash(token: str) -> str:
    """Customer tokens are bearer secrets: Redis keeps only their hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def _list(value: Any) -> list[Any]:
    """cjson writes an empty Lua table as {}: read it as an empty list."""
    return value if isinstance(value, list) else []


class QueueStore:
    """Tickets, agents, offers, sessions and routing on one Redis, shared by any number of processes."""

    def __init__(
        self,
        redis: RedisClient,
        settings: Settings,
        *,
        clock: Clock | None = None,
        keys: Keyspace | None = None,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.clock: Clock = clock or RedisClock()
        self.keys = keys or keyspace_for(settings, cluster=is_cluster(redis))
        self.events_key = self.keys.key("events")
        self._events_maxlen = settings.queue_events_maxlen
        self._pairs = [(lang, topic) for lang in settings.sign_languages for topic in settings.topics]
        context = {
            "langs": list(settings.sign_languages),
            "topics": list(settings.topics),
            # Settings reach Lua by name (lib.lua reads CTX.settings.<name>).
            "settings": {
                "offer_timeout_s": settings.offer_timeout_s,
                "max_missed_offers": settings.max_missed_offers,
                "heartbeat_grace_s": settings.heartbeat_grace_s,
                "offer_retry_s": settings.offer_retry_s,
                "queue_events_maxlen": settings.queue_events_maxlen,
                "finished_ticket_keep_s": settings.finished_ticket_keep_s,
            },
        }
        self._calls: dict[str, tuple[list[bytes], bytes]] = {}
        for operation in scripts.OPERATIONS:
            m = scripts.manifest(operation)
            names = [
                *m.names,
                *(f"{kind}:{lang}/{topic}" for kind in m.pair_kinds for lang, topic in self._pairs),
            ]
            keys_ = [self._name_to_key(name).encode() for name in names]
            ctx = {**context, "keys": [*names, "reply"] if m.writes else names}
            # Encoded once: redis-py packs bytes at half the cost of str.
            self._calls[operation] = (keys_, json.dumps(ctx, separators=(",", ":")).encode())
        self._offsets = class_offsets(settings)

    def _name_to_key(self, name: str) -> str:
        """A Lua key name ('tickets', 'wait:ASL/phone', 'events') -> the Redis key."""
        if name == "events":
            return self.events_key
        kind, _, pair = name.partition(":")
        if pair:
            lang, _, topic = pair.partition("/")
            return self.keys.key("queue", kind, lang, topic)
        return self.keys.key("queue", name)

    # -- plumbing ------------------------------------------------------------------------------------

    async def _run(self, operation: str, *args: str, now: float | None = None) -> dict[str, Any]:
        stamp = now if now is not None else self.clock.now()
        clock = "" if stamp is None else repr(float(stamp))
        keys, context = self._calls[operation]
        if scripts.manifest(operation).writes:
            # A fresh call id: if the connection dies and the client sends the call again, the script
            # answers from the reply it kept instead of acting twice.
            keys = [*keys, self.keys.key("queue", "reply", secrets.token_hex(8)).encode()]
        argv: list[bytes | str] = [context, clock, *args]
        try:
            raw = await scripts.script(operation)(self.redis, keys, argv)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise BackendUnavailable(f"queue unavailable: cannot reach Redis ({exc})") from exc
        except RedisError as exc:
            log.error("queue script %s failed in Redis: %s", operation, exc)
            raise BackendUnavailable(f"queue unavailable: Redis refused {operation} ({exc})") from exc
        reply: dict[str, Any] = json.loads(raw)
        if "error" in reply:
            raise _error(reply)
        return reply

    async def _hget(self, name: str, field: str) -> str | None:
        try:
            raw: bytes | str | None = await self.redis.hget(self._key(name), field)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"queue unavailable: cannot reach Redis ({exc})") from exc
        return raw.decode() if isinstance(raw, bytes) else raw

    def _key(self, name: str) -> str:
        return self.keys.key("queue", name)

    # -- customers -----------------------------------------------------------------------------------

    async def join(self, request: JoinRequest, *, now: float | None = None) -> Placed:
        """A customer joins; offered at once to the longest-idle eligible agent if there is one.

        Raises BadRequest (bad field), AlreadyQueued (this customer token has an active ticket) or
        NotServed (no online agent for that language and topic; lists what is served now).
        """
        req = validation.check_join(request, self.settings)
        reply = await self._run(
            "join",
            token_hash(req.customer_token),
            req.language,
            req.topic,
            req.priority_class,
            req.verdict_id or "",
            req.device_model or "",
            req.device_serial or "",
            repr(self._offsets[req.priority_class]),
            now=now,
        )
        log.info("ticket %s joined %s/%s", reply["ticket"]["id"], req.language, req.topic)
        return _placed(reply)

    async def heartbeat(self, ticket_id: str, *, now: float | None = None) -> Ticket:
        """The customer is still there. Closed if their grace ran out (the ticket is abandoned)."""
        reply = await self._run("heartbeat", validation.check_id("ticket_id", ticket_id), now=now)
        return Ticket.from_record(reply["ticket"])

    async def leave(self, ticket_id: str, *, now: float | None = None) -> Ticket:
        """The customer leaves the queue (abandoned, reason "left"); harmless if already gone."""
        reply = await self._run("leave", validation.check_id("ticket_id", ticket_id), now=now)
        return Ticket.from_record(reply["ticket"])

    async def transfer(
        self,
        ticket_id: str,
        language: str,
        topic: str,
        *,
        agent_id: str | None = None,
        now: float | None = None,
    ) -> Placed:
        """Move a waiting ticket, or one in `agent_id`'s call (the call ends, the agent wraps up), to
        another skill queue, keeping the time it has waited."""
        validation.check_skills([language], [topic], self.settings)
        reply = await self._run(
            "transfer",
            validation.check_id("ticket_id", ticket_id),
            language,
            topic,
            validation.check_id("agent_id", agent_id) if agent_id else "",
            now=now,
        )
        return _placed(reply)

    async def get_ticket(self, ticket_id: str) -> Ticket:
        raw = await self._hget("tickets", ticket_id)
        if raw is None:
            raise NotFound(f"no ticket {ticket_id}")
        return Ticket.from_record(json.loads(raw))

    async def ticket_by_token(self, customer_token: str) -> Ticket:
        """The customer's latest ticket (for resuming after a reconnect)."""
        ticket_id = await self._hget("tokens", token_hash(customer_token))
        if ticket_id is None:
            raise NotFound("no ticket for this customer")
        return await self.get_ticket(ticket_id)

    async def positions(self, ticket_ids: Sequence[str], *, now: float | None = None) -> dict[str, Position]:
        """Place and estimated wait of several tickets, read at one instant."""
        ids = [validation.check_id("ticket_id", t) for t in ticket_ids]
        if not ids:
            return {}
        reply = await self._run("position", *ids, now=now)
        stats = WaitStats.from_raw(reply["stats"])
        out: dict[str, Position] = {}
        for row in _list(reply["tickets"]):
            if row["state"] == "missing":
                continue
            state = TicketState(row["state"])
            servers = int(row.get("serving", 0))
            ahead = float(row.get("ahead", 0.0))
            estimate = None
            if state in (TicketState.WAITING, TicketState.OFFERED):
                estimate = expected_wait(ahead, servers, stats, offered=state is TicketState.OFFERED)
            rank = row.get("rank")
            out[row["id"]] = Position(
                ticket_id=row["id"],
                state=state,
                position=int(rank) + 1 if rank is not None else None,
                ahead_effective=ahead,
                serving_agents=servers,
                estimated_wait_s=estimate,
                at=float(reply["now"]),
            )
        return out

    async def position(self, ticket_id: str, *, now: float | None = None) -> Position:
        found = await self.positions([ticket_id], now=now)
        if ticket_id not in found:
            raise NotFound(f"no ticket {ticket_id}")
        return found[ticket_id]

    # -- agents --------------------------------------------------------------------------------------

    async def agent_login(
        self,
        agent_id: str,
        languages: Iterable[str],
        topics: Iterable[str],
        *,
        name: str = "",
        ready: bool = False,
        now: float | None = None,
    ) -> AgentUpdate:
        """Come online (away, or available if `ready`) or, when online already, update skills/name."""
        langs, tops = validation.check_skills(languages, topics, self.settings)
        reply = await self._run(
            "login",
            validation.check_id("agent_id", agent_id),
            validation.check_name(name),
            ",".join(langs),
            ",".join(tops),
            "1" if ready else "0",
            now=now,
        )
        return _agent_update(reply)

    async def agent_ready(self, agent_id: str, *, now: float | None = None) -> AgentUpdate:
        """Away or wrap-up -> available; offered the best eligible ticket at once if any."""
        return _agent_update(await self._run("ready", validation.check_id("agent_id", agent_id), now=now))

    async def agent_away(self, agent_id: str, *, now: float | None = None) -> Agent:
        """Stop taking work; an open offer returns to the queue (no miss counted)."""
        reply = await self._run("away", validation.check_id("agent_id", agent_id), "away", now=now)
        return Agent.from_record(reply["agent"])

    async def agent_logout(self, agent_id: str, *, now: float | None = None) -> Agent:
        reply = await self._run("away", validation.check_id("agent_id", agent_id), "offline", now=now)
        return Agent.from_record(reply["agent"])

    async def agent_heartbeat(self, agent_id: str, *, now: float | None = None) -> Agent:
        """The console is still there; without one for heartbeat_grace_s the agent is logged out."""
        reply = await self._run("agent_heartbeat", validation.check_id("agent_id", agent_id), now=now)
        return Agent.from_record(reply["agent"])

    async def get_agent(self, agent_id: str) -> Agent:
        raw = await self._hget("agents", agent_id)
        if raw is None:
            raise NotFound(f"no agent {agent_id}")
        return Agent.from_record(json.loads(raw))

    async def list_agents(self) -> list[Agent]:
        """Every agent who ever logged in, with their status (for the supervisor view)."""
        try:
            raw: list[bytes | str] = await self.redis.hvals(self._key("agents"))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"queue unavailable: cannot reach Redis ({exc})") from exc
        return sorted((Agent.from_record(json.loads(r)) for r in raw), key=lambda a: a.id)

    async def ticket_for_session(self, session_id: str) -> Ticket:
        """The ticket (customer, language, topic, verdict, device) of a session, ended or not."""
        ticket_id = await self._hget("sessions", session_id)
        if ticket_id is None:
            raise NotFound(f"no session {session_id}")
        return await self.get_ticket(ticket_id)

    async def get_offer(self, offer_id: str) -> Offer:
        raw = await self._hget("offers", offer_id)
        if raw is None:
            raise Closed(f"offer {offer_id} is not open")
        return Offer.from_record(json.loads(raw))

    async def accept(self, agent_id: str, offer_id: str, *, now: float | None = None) -> Session:
        """The agent takes the offer: a session starts. Forbidden (not theirs), OfferExpired, Closed."""
        reply = await self._run(
            "accept",
            validation.check_id("agent_id", agent_id),
            validation.check_id("offer_id", offer_id),
            now=now,
        )
        s = reply["session"]
        log.info("offer %s accepted: session %s, ticket %s", offer_id, s["id"], s["ticket"])
        return Session(
            id=s["id"],
            ticket_id=s["ticket"],
            agent_id=s["agent"],
            started_at=float(s["started"]),
            waited_s=float(s["waited"]),
        )

    async def decline(self, agent_id: str, offer_id: str, *, now: float | None = None) -> Agent:
        """The ticket returns to its place; a miss for the agent (away after max_missed_offers)."""
        reply = await self._run(
            "decline",
            validation.check_id("agent_id", agent_id),
            validation.check_id("offer_id", offer_id),
            now=now,
        )
        return Agent.from_record(reply["agent"])

    async def end_session(
        self,
        session_id: str,
        *,
        by: EndedBy,
        agent_id: str | None = None,
        now: float | None = None,
    ) -> Ticket:
        """The call is over: ticket ended, agent in wrap-up (agent_ready makes them available).
        With `agent_id`, only that agent's session can be ended (Forbidden otherwise)."""
        reply = await self._run(
            "end_session",
            validation.check_id("session_id", session_id),
            EndedBy(by).value,
            validation.check_id("agent_id", agent_id) if agent_id else "",
            now=now,
        )
        return Ticket.from_record(reply["ticket"])

    # -- supervision and upkeep ------------------------------------------------------------------------

    async def snapshot(self, *, now: float | None = None) -> QueueSnapshot:
        reply = await self._run("snapshot", now=now)
        lines = []
        for row in _list(reply["lines"]):
            lang, topic = row["pair"].split("/", 1)
            lines.append(
                QueueLine(
                    language=lang,
                    topic=topic,
                    waiting=int(row["waiting"]),
                    offered=int(row["offered"]),
                    longest_wait_s=float(row["longest"]),
                    online_agents=int(row["online"]),
                    serving_agents=int(row["serving"]),
                )
            )
        counts = reply["agents"] if isinstance(reply["agents"], dict) else {}
        agents = {status: int(counts.get(status.value, 0)) for status in AgentStatus}
        return QueueSnapshot(at=float(reply["now"]), lines=tuple(lines), agents=agents)

    async def totals(self) -> dict[str, int]:
        """Day totals since the queue began: joined, served, abandoned, offers declined / expired."""
        names = ("joined_total", "served_total", "abandoned_total", "offers_declined", "offers_expired")
        try:
            raw: list[bytes | str | None] = await self.redis.hmget(self._key("stats"), list(names))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"queue unavailable: cannot reach Redis ({exc})") from exc
        values = dict(zip(names, raw, strict=True))
        return {name.removesuffix("_total"): int(values[name] or 0) for name in names}

    async def sweep(self, *, now: float | None = None, limit: int = SWEEP_BATCH) -> SweepResult:
        """Expire what is due (offers, silent customers and agents, retry pauses, old tickets)."""
        reply = await self._run("sweep", str(int(limit)), now=now)
        return SweepResult(
            expired_offers=int(reply["expired_offers"]),
            abandoned=int(reply["abandoned"]),
            agents_logged_out=int(reply["agents_logged_out"]),
            retried_agents=int(reply["retried_agents"]),
            purged=int(reply["purged"]),
            more=bool(reply["more"]),
        )

    async def read_events(
        self, after: str = "0-0", *, count: int = 100, block_ms: int | None = None
    ) -> list[QueueEvent]:
        """Events after stream id `after` (use "$" with block_ms to wait for new ones only)."""
        try:
            reply: Any = await self.redis.xread({self.events_key: after}, count=count, block=block_ms)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"queue events unavailable: cannot reach Redis ({exc})") from exc
        events = []
        for _stream, entries in reply or []:
            events += [parse_event(entry_id, fields) for entry_id, fields in entries]
        return events

    def consumer(self, group: str, name: str) -> StreamConsumer:
        """A consumer-group reader of the events (the recorder's way in: queue/consumer.py)."""
        return StreamConsumer(self.redis, self.events_key, group, name, maxlen=self._events_maxlen)

    async def last_event_id(self) -> str:
        """The newest event's id ("0-0" if none): read events after it to miss nothing from now on."""
        try:
            newest: Any = await self.redis.xrevrange(self.events_key, count=1)
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"queue events unavailable: {exc}") from exc
        if not newest:
            return "0-0"
        entry_id = newest[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def dump(self) -> dict[str, Any]:
        """Every queue structure, read atomically (audit.py checks it; O(size of the queue))."""
        return await self._run("dump")


def _error(reply: dict[str, Any]) -> SignlinkError:
    code, message = reply["error"], reply["message"]
    if code == "not_found":
        return NotFound(message)
    if code == "forbidden":
        return Forbidden(message)
    if code == "bad_request":
        return BadRequest(message)
    if code == "not_served":
        return NotServed(
            message,
            languages=tuple(x for x in reply["languages"].split(",") if x),
            topics=tuple(x for x in reply["topics"].split(",") if x),
        )
    if code == "duplicate":
        return AlreadyQueued(message, ticket_id=reply["ticket"]["id"])
    if code == "expired":
        return OfferExpired(message)
    if code == "closed":
        return Closed(message)
    return Conflict(message)


def _offer(raw: Any) -> Offer | None:
    return Offer.from_record(raw) if isinstance(raw, dict) and raw else None


def _placed(reply: dict[str, Any]) -> Placed:
    return Placed(ticket=Ticket.from_record(reply["ticket"]), offer=_offer(reply.get("offer")))


def _agent_update(reply: dict[str, Any]) -> AgentUpdate:
    return AgentUpdate(agent=Agent.from_record(reply["agent"]), offer=_offer(reply.get("offer")))
