"""The call service of one process: hello, the messages of customers and agents, the relay, resuming.

Nothing here is kept only in this process: tickets, agents, offers and sessions are the queue's (Redis),
presence is in Redis (presence.py), the records are in Redis (records/sessions.py). A client that
reconnects to any process with its token or cookie gets the same state back in its welcome. The queue
feed and the periodic pushes (positions, snapshots, presence) are in pushes.py.
"""

from __future__ import annotations

import contextlib
import logging
import time

from aiohttp import web
from redis.asyncio import Redis

from signlink.accounts import Account, AccountStore
from signlink.accounts import Role as StaffRole
from signlink.config import Settings
from signlink.errors import BackendUnavailable, NotFound
from signlink.ice import ice_servers
from signlink.queue.errors import Closed
from signlink.queue.models import Agent, AgentStatus, EndedBy, Ticket, TicketState
from signlink.queue.store import QueueStore
from signlink.records.sessions import SessionRecords
from signlink.records.verdicts import VerdictStore
from signlink.signaling import offers
from signlink.signaling import protocol as p
from signlink.signaling.bus import CallStarted, Relay
from signlink.signaling.connection import Connection, QueueSeen
from signlink.signaling.hub import Hub
from signlink.signaling.outgoing import (
    AgentInfo,
    AgentStatusChanged,
    AgentWelcome,
    ChatAck,
    ChatFailed,
    ChatRelay,
    CustomerWelcome,
    Left,
    OfferInfo,
    Peer,
    Pong,
    Saved,
    ServerMessage,
    SessionInfo,
    SessionStarted,
    SignalRelay,
    Snapshot,
    encode,
)
from signlink.signaling.presence import CallRef, Presence, agent_party, customer_party
from signlink.signaling.ratelimit import TokenBucket

log = logging.getLogger(__name__)


def other(role: p.Role) -> p.Role:
    return p.Role.AGENT if role is p.Role.CUSTOMER else p.Role.CUSTOMER


class CallService:
    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis,
        queue: QueueStore,
        verdicts: VerdictStore,
        records: SessionRecords,
        accounts: AccountStore,
        latest: offers.LatestChecks | None = None,
    ) -> None:
        self.settings = settings
        self.latest = latest  # the waiting room's watched video state, shown with offers
        self.queue = queue
        self.verdicts = verdicts
        self.records = records
        self.accounts = accounts
        self.hub = Hub(redis, queue.keys)
        self.hub.on_call_started = self._call_started
        self.presence = Presence(redis, queue.keys)

    def open(self, ws: web.WebSocketResponse) -> Connection:
        bucket = TokenBucket(self.settings.ws_rate_per_s, self.settings.ws_rate_burst)
        conn = Connection(ws, bucket)
        self.hub.add(conn)
        return conn

    async def publish(self, party: str, message: ServerMessage) -> int:
        return await self.hub.bus.publish(party, Relay(encode(message)))

    # -- hello ---------------------------------------------------------------------------------------

    async def hello(
        self, conn: Connection, hello: p.Hello, account: Account | None, staff_session: str
    ) -> None:
        """Identify the connection and send its welcome; ProtocolError (with a close code) if it may not."""
        conn.pc = hello.pc
        if hello.role is p.Role.CUSTOMER:
            assert hello.token is not None
            await self._hello_customer(conn, hello.token)
        else:
            if account is None:
                raise p.ProtocolError("unauthenticated", "log in first", close=p.CloseCode.UNAUTHENTICATED)
            if account.role is not StaffRole.AGENT:
                raise p.ProtocolError("forbidden", "an agent account is needed", close=p.CloseCode.FORBIDDEN)
            conn.account = account
            conn.staff_session = staff_session
            await self._hello_agent(conn, account)

    async def _hello_customer(self, conn: Connection, token: str) -> None:
        try:
            ticket = await self.queue.ticket_by_token(token)
        except NotFound:
            raise p.ProtocolError(
                "unknown_ticket", "no ticket for this token (expired?): join again", close=p.CloseCode.UNKNOWN
            ) from None
        conn.role, conn.ticket = p.Role.CUSTOMER, ticket
        if not await self.hub.claim(conn, customer_party(ticket.id)):
            return
        # Read again after claiming: whatever changes from here on reaches this connection.
        ticket = conn.ticket = await self.queue.get_ticket(ticket.id)
        if ticket.state in (TicketState.WAITING, TicketState.OFFERED):
            try:
                ticket = conn.ticket = await self.queue.heartbeat(ticket.id)
            except Closed:
                ticket = conn.ticket = await self.queue.get_ticket(ticket.id)
        welcome = await self._customer_welcome(conn, ticket)
        conn.start(welcome)
        log.info("customer of ticket %s connected (%s, conn %s)", ticket.id, welcome.state, conn.id)

    async def _customer_welcome(self, conn: Connection, ticket: Ticket) -> CustomerWelcome:
        if ticket.state in (TicketState.WAITING, TicketState.OFFERED):
            position, estimate = await self.position_of(ticket.id)
            conn.waiting = True
            conn.queue_seen = QueueSeen(position, estimate, time.monotonic())
            return CustomerWelcome(ticket.id, "waiting", position, estimate)
        if ticket.state is TicketState.IN_CALL and ticket.session_id and ticket.agent_id:
            call = CallRef(ticket.session_id, ticket.id, ticket.agent_id)
            if conn.call == call:  # the call started during this hello: nothing to rejoin
                session = await self._session_info(conn, call, peer_connected=True)
            else:
                session = await self._rejoin(conn, call)
            return CustomerWelcome(ticket.id, "in_call", session=session)
        return CustomerWelcome(ticket.id, ticket.state.value)

    async def _hello_agent(self, conn: Connection, account: Account) -> None:
        conn.role = p.Role.AGENT
        if not await self.hub.claim(conn, agent_party(account.username)):
            return
        update = await self.queue.agent_login(
            account.username, account.languages, account.topics, name=account.display_name
        )
        agent = update.agent
        conn.agent_status = agent.status.value
        offer = session = wrap_up = None
        if agent.status is AgentStatus.ON_OFFER and agent.offer_id:
            offer = await self._offer_info(agent.offer_id)
        elif agent.status is AgentStatus.IN_CALL and agent.session_id and agent.ticket_id:
            session = await self._rejoin(conn, CallRef(agent.session_id, agent.ticket_id, agent.id))
        elif agent.status is AgentStatus.WRAP_UP:
            wrap_up = await self.records.latest_for_agent(agent.id)
        conn.start(
            AgentWelcome(
                agent=agent_info(agent),
                ice_servers=ice_servers(self.settings, agent.id),
                offer=offer,
                session=session,
                wrap_up_session_id=wrap_up,
            )
        )
        conn.send(Snapshot(await self.queue.snapshot()))
        log.info("agent %s connected (%s, conn %s)", agent.id, agent.status.value, conn.id)

    async def _offer_info(self, offer_id: str) -> OfferInfo | None:
        try:
            offer = await self.queue.get_offer(offer_id)
        except Closed:
            return None
        ticket = await self.queue.get_ticket(offer.ticket_id)
        return await offers.offer_info(offer, ticket, self.verdicts, time.time(), self.latest)

    async def _rejoin(self, conn: Connection, call: CallRef) -> SessionInfo:
        """A party comes back to its live call: the peer hears `peer rejoined` and restarts ICE."""
        assert conn.role is not None
        conn.call = call
        await self.presence.connect(call, conn.role)
        peer_here = await self.presence.is_present(call, other(conn.role))
        session = await self._session_info(conn, call, peer_connected=peer_here)
        await self.publish(call.party(other(conn.role)), Peer("rejoined", conn.pc.value))
        log.info("session %s: %s rejoined (pc %s)", call.session_id, conn.role.value, conn.pc.value)
        return session

    async def _session_info(self, conn: Connection, call: CallRef, *, peer_connected: bool) -> SessionInfo:
        ticket = await self.queue.get_ticket(call.ticket_id)
        if conn.role is p.Role.AGENT:
            role, peer_name, me = "offerer", "", call.agent_id
        else:
            role, me = "answerer", ticket.id
            peer_name = (await self.queue.get_agent(call.agent_id)).name
        return SessionInfo(
            session_id=call.session_id,
            role=role,
            peer_name=peer_name,
            peer_connected=peer_connected,
            ice_servers=ice_servers(self.settings, me),
            ticket=offers.ticket_info(ticket, time.time()),
        )

    async def position_of(self, ticket_id: str) -> tuple[int | None, float | None]:
        """Place and estimate to show; a ticket on offer shows as next (offers are not shown)."""
        try:
            pos = await self.queue.position(ticket_id)
        except NotFound:
            return None, None
        if pos.state is TicketState.OFFERED:
            return 1, pos.estimated_wait_s
        return pos.position, pos.estimated_wait_s

    # -- messages --------------------------------------------------------------------------------------

    async def handle(self, conn: Connection, message: p.ClientMessage) -> None:
        """One message of an identified connection. SignlinkError: answered as an `error`."""
        match message:
            case p.Ping():
                await self._ping(conn)
            case p.Signal() | p.Chat() | p.ChatAck() | p.End():
                await self._in_call(conn, message)
            case p.Leave():
                await self._leave(conn)
            case p.SetStatus(status=status):
                await self._set_status(conn, status)
            case p.Accept(offer_id=offer_id):
                await self._accept(conn, offer_id)
            case p.Decline(offer_id=offer_id):
                await self.queue.decline(self._agent_id(conn), offer_id)
            case p.WrapUp():
                await self._wrap_up(conn, message)
            case p.Transfer(language=language, topic=topic):
                call = self._call_of(conn, None)
                await self.queue.transfer(call.ticket_id, language, topic, agent_id=call.agent_id)
                log.info("session %s: transferred to %s/%s", call.session_id, language, topic)
            case p.Note(session_id=session_id, text=text):
                await self.records.add_note(session_id, agent_id=self._agent_id(conn), text=text)
                conn.send(Saved("note", session_id))
            case p.Hello():
                raise p.ProtocolError("already_identified", "hello was already said on this connection")

    def _agent_id(self, conn: Connection) -> str:
        assert conn.account is not None
        return conn.account.username

    async def _ping(self, conn: Connection) -> None:
        conn.send(Pong())
        if conn.role is p.Role.CUSTOMER and conn.waiting and conn.ticket is not None:
            with contextlib.suppress(Closed):  # abandoned: the queue's event tells the customer
                await self.queue.heartbeat(conn.ticket.id)
        elif conn.role is p.Role.AGENT and conn.account is not None:
            await self._agent_alive(conn, conn.account)

    async def _agent_alive(self, conn: Connection, account: Account) -> None:
        # The login may have ended since the hello (logout elsewhere, disabled, expired).
        session = await self.accounts.session(conn.staff_session)
        current = await self.accounts.get(account.username) if session else None
        if current is None or current.disabled:
            raise p.ProtocolError(
                "unauthenticated", "your login has ended", close=p.CloseCode.UNAUTHENTICATED
            )
        try:
            await self.queue.agent_heartbeat(account.username)
        except Closed:
            # Logged out by the queue (silent too long) while this socket lived: back online, away.
            await self.queue.agent_login(
                account.username, account.languages, account.topics, name=account.display_name
            )

    async def _leave(self, conn: Connection) -> None:
        assert conn.ticket is not None
        ticket = await self.queue.leave(conn.ticket.id)
        self.ticket_left(conn, ticket.finish_reason or "left")

    def ticket_left(self, conn: Connection, reason: str) -> None:
        if conn.waiting and conn.ticket is not None:
            conn.waiting = False
            conn.send(Left(conn.ticket.id, reason))

    async def _set_status(self, conn: Connection, status: p.AgentChoice) -> None:
        agent_id = self._agent_id(conn)
        before = conn.agent_status
        if status is p.AgentChoice.AVAILABLE:
            agent = (await self.queue.agent_ready(agent_id)).agent
        else:
            agent = await self.queue.agent_away(agent_id)
        if agent.status.value == before:  # no change, so no event: answer directly
            conn.send(AgentStatusChanged(agent.status.value, agent.missed, "unchanged", before))

    async def _accept(self, conn: Connection, offer_id: str) -> None:
        agent_id = self._agent_id(conn)
        session = await self.queue.accept(agent_id, offer_id)
        ticket = await self.queue.get_ticket(session.ticket_id)
        call = CallRef(session.id, ticket.id, agent_id)
        conn.call = call
        await self.records.start(
            session_id=session.id,
            ticket_id=ticket.id,
            agent_id=agent_id,
            language=ticket.language,
            topic=ticket.topic,
            started_at=session.started_at,
        )
        name = conn.account.display_name if conn.account else agent_id
        reached = await self.hub.bus.publish(
            customer_party(ticket.id), CallStarted(session.id, agent_id, name)
        )
        await self.presence.start(call, customer_connected=reached > 0)
        conn.send(SessionStarted(await self._session_info(conn, call, peer_connected=reached > 0)))
        log.info(
            "session %s: agent %s took ticket %s (customer connected: %s)",
            session.id,
            agent_id,
            ticket.id,
            reached > 0,
        )

    def _call_started(self, conn: Connection, message: CallStarted) -> None:
        """On the customer's process (bus callback: no waiting, so it stays in order with the relay)."""
        if conn.role is not p.Role.CUSTOMER or conn.ticket is None:
            return
        call = CallRef(message.session_id, conn.ticket.id, message.agent_id)
        conn.call, conn.waiting = call, False
        info = SessionInfo(
            session_id=call.session_id,
            role="answerer",
            peer_name=message.agent_name,
            peer_connected=True,
            ice_servers=ice_servers(self.settings, conn.ticket.id),
            ticket=offers.ticket_info(conn.ticket, time.time()),
        )
        conn.send(SessionStarted(info))

    async def _wrap_up(self, conn: Connection, message: p.WrapUp) -> None:
        agent_id = self._agent_id(conn)
        await self.records.wrap_up(
            message.session_id, agent_id=agent_id, outcome=message.outcome.value, notes=message.notes
        )
        conn.send(Saved("wrap_up", message.session_id))
        log.info("session %s: wrapped up by %s (%s)", message.session_id, agent_id, message.outcome.value)
        if message.next is p.AgentChoice.AVAILABLE:
            await self._set_status(conn, p.AgentChoice.AVAILABLE)
        else:
            await self._set_status(conn, p.AgentChoice.AWAY)

    # -- the call: relay and end -------------------------------------------------------------------

    def _call_of(self, conn: Connection, session_id: str | None) -> CallRef:
        if conn.call is None:
            raise p.ProtocolError("no_session", "you are not in a call")
        if session_id is not None and session_id != conn.call.session_id:
            raise p.ProtocolError("wrong_session", "that is not your session: nothing was sent")
        return conn.call

    async def _in_call(self, conn: Connection, message: p.Signal | p.Chat | p.ChatAck | p.End) -> None:
        assert conn.role is not None
        call = self._call_of(conn, message.session_id)
        peer = call.party(other(conn.role))
        match message:
            case p.Signal(data=data):
                if not await self.publish(peer, SignalRelay(data.to_wire())):
                    raise p.ProtocolError("peer_unavailable", "the other side is not connected right now")
            case p.Chat(id=chat_id, text=text):
                if not await self.publish(peer, ChatRelay(chat_id, text)):
                    conn.send(ChatFailed(chat_id, "peer_unavailable"))
            case p.ChatAck(id=chat_id):
                await self.publish(peer, ChatAck(chat_id))
            case p.End():
                by = EndedBy.AGENT if conn.role is p.Role.AGENT else EndedBy.CUSTOMER
                agent_id = call.agent_id if conn.role is p.Role.AGENT else None
                await self.queue.end_session(call.session_id, by=by, agent_id=agent_id)
                await self.presence.forget(call)
                log.info("session %s: ended by the %s", call.session_id, by.value)

    # -- closing -------------------------------------------------------------------------------------

    async def closed(self, conn: Connection) -> None:
        """The socket is gone. A party of a live call is marked absent and its peer is told."""
        try:
            current = await self.hub.release(conn)
            call, role = conn.call, conn.role
            if current and call is not None and role is not None and await self.presence.drop(call, role):
                await self.publish(call.party(other(role)), Peer("disconnected", conn.pc.value))
                log.info("session %s: %s disconnected", call.session_id, role.value)
        except BackendUnavailable as exc:
            log.warning("%r: cleanup incomplete: %s", conn, exc)


def agent_info(agent: Agent) -> AgentInfo:
    return AgentInfo(agent.id, agent.name, agent.status.value, agent.languages, agent.topics, agent.missed)
