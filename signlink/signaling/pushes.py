"""What the server tells clients without being asked, in every process for the sockets it holds.

- Queue events (feed.py tails the stream): offers and their end, agent status changes, calls ended,
  transfers and abandonments go to the local agent or customer they concern.
- Positions: after any queue event (at most once a second) and at least every 15 s, each local waiting
  customer whose place or estimate changed gets `queue`.
- Snapshots: every 2 s, local agents get `queue_snapshot` when it changed.
- Presence: every `call_presence_interval_s` this process vouches for its call sockets and sweeps for
  parties whose process died (peer told) or whose grace ran out (call ended by "system"). In the same
  round it vouches for its waiting customers' and agents' sockets in the queue, so a customer whose
  socket stays open keeps their place whether or not the page's pings get through.
"""

from __future__ import annotations

import logging
import time

from signlink.errors import BackendUnavailable, NotFound
from signlink.queue.errors import Closed
from signlink.queue.events import EventType, QueueEvent
from signlink.queue.models import EndedBy
from signlink.signaling.calls import CallService, other
from signlink.signaling.connection import Connection, QueueSeen
from signlink.signaling.feed import EventFeed, Periodic
from signlink.signaling.offers import offer_info
from signlink.signaling.outgoing import (
    AgentStatusChanged,
    Ended,
    Offer,
    OfferEnded,
    Peer,
    QueueUpdate,
    Snapshot,
    Transferred,
    encode,
)
from signlink.signaling.presence import CallRef, agent_party, customer_party
from signlink.signaling.protocol import Role

log = logging.getLogger(__name__)

POSITIONS_INTERVAL_S = 1.0
POSITIONS_AT_LEAST_S = 15.0
SNAPSHOT_INTERVAL_S = 2.0
POSITIONS_BATCH = 500
STALE_AFTER = 3  # presence intervals without a sign before a party counts as gone

_OFFER_END = {
    EventType.OFFER_ACCEPTED: "accepted",
    EventType.OFFER_DECLINED: "declined",
    EventType.OFFER_EXPIRED: "timed_out",
    EventType.OFFER_CANCELLED: "withdrawn",
}


class Pushes:
    def __init__(self, service: CallService) -> None:
        self.service = service
        self.feed = EventFeed(service.queue, self.on_event)
        interval = service.settings.call_presence_interval_s
        self._jobs = [
            Periodic("call-positions", POSITIONS_INTERVAL_S, self.push_positions),
            Periodic("call-snapshots", SNAPSHOT_INTERVAL_S, self.push_snapshots),
            Periodic("call-presence", interval, self.presence_round),
            Periodic("queue-vouch", interval, self.vouch_queue),
        ]
        self._dirty = True
        self._snapshot_content: dict[str, object] | None = None

    async def start(self) -> None:
        await self.feed.start()
        for job in self._jobs:
            job.start()

    async def stop(self) -> None:
        for job in self._jobs:
            await job.stop()
        await self.feed.stop()

    # -- queue events ------------------------------------------------------------------------------

    async def on_event(self, event: QueueEvent) -> None:
        if self._moves_places(event):
            self._dirty = True
        hub = self.service.hub
        agent = hub.get(agent_party(event.agent_id)) if event.agent_id else None
        customer = hub.get(customer_party(event.ticket_id)) if event.ticket_id else None
        kind = event.type
        if kind is EventType.OFFER_CREATED and agent is not None and event.offer_id:
            await self._offer(agent, event.offer_id)
        elif kind in _OFFER_END and agent is not None and event.offer_id:
            agent.send(OfferEnded(event.offer_id, _OFFER_END[kind]))
        elif kind is EventType.AGENT_STATUS and agent is not None and event.status:
            await self._agent_status(agent, event)
        elif kind is EventType.SESSION_ENDED and event.session_id:
            await self._ended(event, agent, customer)
        elif kind is EventType.TICKET_TRANSFERRED and customer is not None:
            await self._transferred(customer, event)
        elif kind is EventType.TICKET_ABANDONED and customer is not None:
            self.service.ticket_left(customer, event.reason or "timeout")

    def _moves_places(self, event: QueueEvent) -> bool:
        """Can this change anyone's place or estimate? A ticket of the lowest class joins behind
        everyone (its score is the largest so far), and a refused one never joins: the rest can."""
        if event.type is EventType.TICKET_UNSERVED:
            return False
        lowest = self.service.settings.priority_classes[-1]
        return not (event.type is EventType.TICKET_JOINED and event.priority_class == lowest)

    async def _offer(self, agent: Connection, offer_id: str) -> None:
        try:
            offer = await self.service.queue.get_offer(offer_id)
        except Closed:
            return  # already answered or gone: its end event follows
        ticket = await self.service.queue.get_ticket(offer.ticket_id)
        agent.send(
            Offer(await offer_info(offer, ticket, self.service.verdicts, time.time(), self.service.latest))
        )
        log.info("offer %s of ticket %s sent to agent %s", offer.id, ticket.id, offer.agent_id)

    async def _agent_status(self, conn: Connection, event: QueueEvent) -> None:
        assert event.agent_id and event.status
        conn.agent_status = event.status
        try:
            missed = (await self.service.queue.get_agent(event.agent_id)).missed
        except NotFound:
            missed = 0
        conn.send(AgentStatusChanged(event.status, missed, event.reason, event.previous))

    async def _ended(self, event: QueueEvent, agent: Connection | None, customer: Connection | None) -> None:
        assert event.session_id
        by = event.by or EndedBy.SYSTEM.value
        for conn in (agent, customer):
            if conn is None or conn.call is None or conn.call.session_id != event.session_id:
                continue
            call, conn.call = conn.call, None
            if conn.role is Role.AGENT or by != "transfer":
                conn.send(Ended(event.session_id, by))
            await self.service.presence.forget(call)

    async def _transferred(self, conn: Connection, event: QueueEvent) -> None:
        assert event.ticket_id and event.language and event.topic
        conn.call = None
        conn.ticket = await self.service.queue.get_ticket(event.ticket_id)
        position, estimate = await self.service.position_of(event.ticket_id)
        conn.waiting = True
        conn.queue_seen = QueueSeen(position, estimate, time.monotonic())
        conn.send(Transferred(event.language, event.topic, position, estimate))

    # -- periodic ------------------------------------------------------------------------------------

    async def push_positions(self) -> None:
        now = time.monotonic()
        waiting = [c for c in self.service.hub.connections(Role.CUSTOMER) if c.waiting and c.ticket]
        due = [c for c in waiting if c.queue_seen is None or now - c.queue_seen.at >= POSITIONS_AT_LEAST_S]
        if self._dirty:
            self._dirty = False
            due = waiting
        for start in range(0, len(due), POSITIONS_BATCH):
            batch = due[start : start + POSITIONS_BATCH]
            found = await self.service.queue.positions([c.ticket.id for c in batch if c.ticket])
            for conn in batch:
                assert conn.ticket is not None
                pos = found.get(conn.ticket.id)
                if pos is None or not conn.waiting:
                    continue
                if pos.position is None:  # on offer: shown as next, quietly
                    continue
                self._send_position(conn, pos.position, pos.estimated_wait_s, now)

    def _send_position(self, conn: Connection, position: int, estimate: float | None, now: float) -> None:
        seen = conn.queue_seen
        rounded = None if estimate is None else round(estimate)
        changed = (
            seen is None
            or seen.position != position
            or (None if seen.estimate is None else round(seen.estimate)) != rounded
        )
        if changed or seen is None or now - seen.at >= POSITIONS_AT_LEAST_S:
            conn.queue_seen = QueueSeen(position, estimate, now)
            conn.send(QueueUpdate(position, estimate, position - 1))

    async def push_snapshots(self) -> None:
        agents = list(self.service.hub.connections(Role.AGENT))
        if not agents:
            return
        message = Snapshot(await self.service.queue.snapshot())
        # "at" moves every time: compare the rest.
        content = {k: v for k, v in message.to_wire().items() if k != "at"}
        if content == self._snapshot_content:
            return
        self._snapshot_content = content
        text = encode(message)
        for conn in agents:
            conn.send_text(text)

    async def presence_round(self) -> None:
        service = self.service
        presence = service.presence
        await service.hub.close_replaced()
        held = [
            (c.call, c.role)
            for role in (Role.CUSTOMER, Role.AGENT)
            for c in service.hub.connections(role)
            if c.call is not None and c.role is not None
        ]
        for call, role in await presence.refresh([(call, role) for call, role in held]):
            log.info("session %s: %s was taken for gone; still here", call.session_id, role.value)
            await service.publish(call.party(other(role)), Peer("rejoined", "live"))
        stale_s = STALE_AFTER * service.settings.call_presence_interval_s
        swept = await presence.sweep(
            stale_s=stale_s, grace_s=service.settings.heartbeat_grace_s, outage_gap_s=stale_s
        )
        for call, role in swept.gone:
            log.info("session %s: the %s's process went silent", call.session_id, role.value)
            await service.publish(call.party(other(role)), Peer("disconnected", "live"))
        for call, role in swept.expired:
            await self._expire(call, role)

    async def vouch_queue(self) -> None:
        """The queue hears from this process, not only from the pages' pings, that these sockets are open."""
        hub = self.service.hub
        tickets = [c.ticket.id for c in hub.connections(Role.CUSTOMER) if c.waiting and c.ticket]
        agents = [c.account.username for c in hub.connections(Role.AGENT) if c.account and c.call is None]
        for start in range(0, max(len(tickets), len(agents)), POSITIONS_BATCH):
            end = start + POSITIONS_BATCH
            await self.service.queue.vouch(tickets[start:end], agents[start:end])

    async def _expire(self, call: CallRef, role: Role) -> None:
        log.info("session %s: the %s did not come back in time; ending the call", call.session_id, role.value)
        try:
            await self.service.queue.end_session(call.session_id, by=EndedBy.SYSTEM)
        except (Closed, NotFound):
            pass
        except BackendUnavailable:
            await self.service.presence.restore([(call, role)])
            raise
        await self.service.presence.forget(call)
