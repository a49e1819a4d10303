"""Pauses between reconnects for the loops that hold a Redis connection of their own (the bus reader,
login revocations, the queue event feed): short at first, so they are back within a few tens of
milliseconds of Redis, then up to a cap while it stays away (each try is one refused connect)."""

from __future__ import annotations


class Backoff:
    def __init__(self, first_s: float = 0.02, cap_s: float = 0.5) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self._next = first_s

    def pause(self) -> float:
        """The pause before the next try (each one twice the last, up to the cap)."""
        pause, self._next = self._next, min(self.cap_s, self._next * 2)
        return pause

    def reset(self) -> None:
        self._next = self.first_s
