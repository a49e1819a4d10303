"""Staff sockets end with their login: at once on a revocation, at expiry, and on a periodic check.

Whatever the client sends or does not send (a console that never pings), an agent's socket closes
with 4401 within about a second of `signlink user disable`, a password change, a logout of that login
in any tab or process, or the login's expiry. Revocations come over Redis pub/sub
(accounts/revocations.py); the periodic check catches one missed while Redis was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from signlink.accounts import AccountStore
from signlink.accounts.revocations import Revocation
from signlink.accounts.store import session_digest
from signlink.errors import SignlinkError
from signlink.signaling import protocol as p
from signlink.signaling.calls import CallService
from signlink.signaling.connection import Connection
from signlink.signaling.outgoing import Error

log = logging.getLogger(__name__)

EXPIRY_CHECK_S = 0.5
SESSION_CHECK_EVERY = 10  # expiry checks between two session checks in Redis (5 s)


class LoginWatch:
    def __init__(self, service: CallService, accounts: AccountStore) -> None:
        self._service = service
        self._accounts = accounts
        self._ticks = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def _staff(self) -> list[Connection]:
        return [c for c in self._service.hub.connections(p.Role.AGENT) if c.account and not c.closing]

    def on_revoked(self, revocation: Revocation) -> None:
        for conn in self._staff():
            assert conn.account is not None
            if revocation.covers(conn.account.username, session_digest(conn.staff_session)):
                self._end(conn, "revoked")

    async def tick(self) -> None:
        """Every EXPIRY_CHECK_S: expired logins end; now and then, logins gone from Redis end too."""
        now = time.time()
        for conn in self._staff():
            if conn.staff_expires_at <= now:
                self._end(conn, "expired")
        self._ticks += 1
        if self._ticks % SESSION_CHECK_EVERY:
            return
        staff = self._staff()
        if staff:
            live = await self._accounts.live_sessions([c.staff_session for c in staff])
            for conn in staff:
                if conn.staff_session not in live:
                    self._end(conn, "gone")

    def _end(self, conn: Connection, why: str) -> None:
        end_login(conn, why)
        if conn.account is not None and conn.call is None:
            # Off the queue too, so no customer is offered to a console that is gone.
            task = asyncio.create_task(self._log_out(conn.account.username), name="staff-logout")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _log_out(self, agent_id: str) -> None:
        with contextlib.suppress(SignlinkError):
            await self._service.queue.agent_logout(agent_id)


def end_login(conn: Connection, why: str) -> None:
    log.info("%r: the login ended (%s): closing", conn, why)
    conn.send(Error("unauthenticated", "your login has ended"))
    conn.close_soon(p.CloseCode.UNAUTHENTICATED, "unauthenticated")
