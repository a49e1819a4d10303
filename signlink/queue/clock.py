"""Whose clock the queue runs on.

Every deadline (offer timeout, heartbeat grace, retry pause) is compared inside Lua against one `now`.
By default that is Redis' own TIME, read inside the script: every signlink process agrees on it
without trusting its host's clock. Tests and the simulation inject a clock (`ManualClock`) and may
also pass `now` to any store call, so time can be compressed or stopped.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float | None:
        """Seconds since the epoch, or None to let Redis stamp the change with its TIME."""


class RedisClock:
    """The default: the Redis server's clock, read atomically inside each script."""

    def now(self) -> float | None:
        return None


class WallClock:
    """This host's clock. Processes on several hosts then depend on NTP keeping them together."""

    def now(self) -> float | None:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests, the simulated day)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float | None:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def set(self, t: float) -> None:
        self.t = t
