"""The Redis priority queue: tickets, agents, skills-based routing, offers, estimates, events.

`QueueStore` (store.py) is the only code that touches the queue's Redis keys; docs/queue.md has the design.
"""

from signlink.queue.clock import Clock, ManualClock, RedisClock, WallClock
from signlink.queue.errors import AlreadyQueued, Closed, NotServed, OfferExpired
from signlink.queue.events import EventType, QueueEvent
from signlink.queue.models import (
    Agent,
    AgentStatus,
    AgentUpdate,
    EndedBy,
    JoinRequest,
    Offer,
    Placed,
    Position,
    QueueSnapshot,
    Session,
    Ticket,
    TicketState,
)
from signlink.queue.store import QueueStore

__all__ = [
    "Agent",
    "AgentStatus",
    "AgentUpdate",
    "AlreadyQueued",
    "Clock",
    "Closed",
    "EndedBy",
    "EventType",
    "JoinRequest",
    "ManualClock",
    "NotServed",
    "Offer",
    "OfferExpired",
    "Placed",
    "Position",
    "QueueEvent",
    "QueueSnapshot",
    "QueueStore",
    "RedisClock",
    "Session",
    "Ticket",
    "TicketState",
    "WallClock",
]
