"""One WebSocket of the call: who is on it, its live call, an outbox with one writer task, its limits.

Anything may hand the connection a message (the bus reader, the queue feed, the socket's own handler)
without waiting on the socket: `send` only queues. A writer task drains the outbox in order, so a
slow or stuck browser never holds up anyone else; one that stops reading for `OUTBOX_LIMIT` messages
is closed. Messages queued before the welcome wait behind it (`start(welcome)`). An idle socket has no
task of its own (memory: benchmarks/ws_idle.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass

from aiohttp import web

from signlink.deadline import stop_task
from signlink.queue.models import Ticket
from signlink.signaling.outgoing import ServerMessage, encode
from signlink.signaling.ports import StaffMember
from signlink.signaling.presence import CallRef
from signlink.signaling.protocol import CloseCode, PcState, Role
from signlink.signaling.ratelimit import TokenBucket

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 1000
CHAT_IDS_KEPT = 512  # chat ids remembered per socket, so a resent message is delivered once
CLOSE_TIMEOUT_S = 2.0
_ids = itertools.count(1)


@dataclass
class QueueSeen:
    """The last position update a waiting customer got (to send only changes)."""

    position: int | None
    estimate: float | None
    at: float


class Connection:
    def __init__(self, ws: web.WebSocketResponse, bucket: TokenBucket) -> None:
        self.ws = ws
        self.id = next(_ids)
        self.bucket = bucket
        self.strikes = 0  # messages refused in a row by the rate limit
        self.role: Role | None = None
        self.party: str | None = None
        self.generation = 0
        self.pc = PcState.NEW
        self.call: CallRef | None = None
        # customer
        self.ticket: Ticket | None = None
        self.waiting = False  # in the queue: gets position updates
        self.queue_seen: QueueSeen | None = None
        # agent
        self.account: StaffMember | None = None
        self.staff_session = ""  # the login's session id (secret: never logged)
        self.staff_expires_at = math.inf  # when that login ends by itself (time.time())
        self.agent_status: str | None = None
        self._chat_ids: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
        self._out: deque[str] = deque()
        self._started = False  # the welcome is out: the writer may run
        self._writer: asyncio.Task[None] | None = None  # runs only while there is something to send
        self._closer: asyncio.Task[None] | None = None
        self._closing = False
        self.finished = asyncio.Event()  # set when the handler has cleaned up

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.party or 'anonymous'}>"

    @property
    def closing(self) -> bool:
        return self._closing or self.ws.closed

    def send(self, message: ServerMessage) -> None:
        self.send_text(encode(message))

    def send_text(self, text: str) -> None:
        if self.closing:
            return
        if len(self._out) >= OUTBOX_LIMIT:
            log.warning("%r is not reading its messages: closing it", self)
            self.close_soon(CloseCode.POLICY, "not reading")
            return
        self._out.append(text)
        self._kick()

    def chat_seen_before(self, chat_id: str) -> bool:
        """Remember a relayed chat id; True if this socket has already been given it."""
        if chat_id in self._chat_ids:
            return True
        self._chat_ids[chat_id] = None
        if len(self._chat_ids) > CHAT_IDS_KEPT:
            del self._chat_ids[next(iter(self._chat_ids))]
        return False

    def start(self, first: ServerMessage) -> None:
        """Send `first` (the welcome) ahead of anything queued so far, then everything in order."""
        self._out.appendleft(encode(first))
        self._started = True
        self._kick()

    def _kick(self) -> None:
        # No task per idle socket: a writer starts when there is something to send and ends when
        # the outbox is empty (one at a time, so the order holds).
        if self._started and (self._writer is None or self._writer.done()):
            self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.id}")

    async def _write(self) -> None:
        while self._out:
            text = self._out.popleft()
            try:
                await self.ws.send_str(text)
            except ConnectionError:
                self._out.clear()
                return

    def close_soon(self, code: CloseCode, reason: str) -> None:
        """Close from a place that cannot wait (a bus callback); the handler's loop then ends."""
        self._closing_task(code, reason)

    async def close(self, code: CloseCode, reason: str) -> None:
        """Close and wait. The first close decides the code: a socket already closing as replaced
        (4409) does not turn into 1001 because its hello then failed."""
        if self.ws.closed and self._closer is None:
            return
        await asyncio.shield(self._closing_task(code, reason))

    def _closing_task(self, code: CloseCode, reason: str) -> asyncio.Task[None]:
        if self._closer is None:
            self._closing = True
            self._closer = asyncio.create_task(self._close(code, reason), name=f"ws-close-{self.id}")
        return self._closer

    async def _close(self, code: CloseCode, reason: str) -> None:
        # What is queued still goes out first (e.g. the error that explains the close).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drain(), CLOSE_TIMEOUT_S)
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()[:120]), CLOSE_TIMEOUT_S)

    async def _drain(self) -> None:
        if self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        await stop_task(writer, "a socket's writer")
