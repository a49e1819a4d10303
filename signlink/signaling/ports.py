"""What the call service needs from the other rooms, as narrow Protocols the app factory hands in.

The account store, the verdict store and the session records satisfy them as they are; signaling
imports none of those rooms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class StaffMember(Protocol):
    """The logged-in staff member behind an agent's socket."""

    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def topics(self) -> tuple[str, ...]: ...


class Logins(Protocol):
    async def login_alive(self, staff_session: str, username: str) -> bool:
        """The login still stands: not logged out, expired, or the account disabled."""
        ...


class CriterionState(Protocol):
    @property
    def status(self) -> str: ...


class CheckRecord(Protocol):
    """A camera check's stored verdict, as the agent's offer summarises it."""

    @property
    def id(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def continued_despite_failure(self) -> bool: ...
    @property
    def criteria(self) -> Mapping[str, CriterionState]: ...


class Verdicts(Protocol):
    async def get(self, verdict_id: str) -> CheckRecord:
        """The verdict; NotFound when it is unknown or expired."""
        ...


class CallLog(Protocol):
    """The call's facts as the agent states them (the records room keeps them)."""

    async def start(
        self,
        *,
        session_id: str,
        ticket_id: str,
        agent_id: str,
        language: str,
        topic: str,
        started_at: float | None = None,
    ) -> None: ...
    async def latest_for_agent(self, agent_id: str) -> str | None: ...
    async def wrap_up(self, session_id: str, *, agent_id: str, outcome: str, notes: str) -> None: ...
    async def add_note(self, session_id: str, *, agent_id: str, text: str) -> int: ...
