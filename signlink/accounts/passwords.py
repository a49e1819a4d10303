"""Password hashing with argon2id (RFC 9106), off the event loop.

argon2 is slow and memory-hard on purpose (about 0.1 s and 64 MiB per hash with the RFC 9106
"low memory" profile argon2-cffi uses by default), so every hash and verify runs in a worker thread,
and a semaphore bounds how many run at once: a burst of logins queues instead of eating the RAM.
"""

from __future__ import annotations

import asyncio
import logging

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from signlink.errors import BadRequest

log = logging.getLogger(__name__)

PASSWORD_MAX = 1024
# Verified against when the username does not exist, so that path costs what a real check costs.
_DUMMY_PASSWORD = "signlink-no-such-account"


def validate_password(password: str, *, min_length: int) -> str:
    if len(password) < min_length:
        raise BadRequest(
            f"a password needs at least {min_length} characters", status=422, code="weak_password"
        )
    if len(password) > PASSWORD_MAX:
        raise BadRequest(f"a password has at most {PASSWORD_MAX} characters", status=422, code="bad_password")
    return password


class Passwords:
    """argon2id hashing and verification in threads, at most `max_concurrent` at a time."""

    def __init__(self, *, max_concurrent: int = 2, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher(type=argon2.Type.ID)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            hashed: str = await asyncio.to_thread(self._hasher.hash, password)
            return hashed

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches. With no stored hash (unknown user) it still spends the time."""
        if stored_hash is None:
            stored_hash = await self._dummy()
            await self._check(stored_hash, password)
            return False
        return await self._check(stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with older parameters than today's."""
        try:
            return bool(self._hasher.check_needs_rehash(stored_hash))
        except InvalidHashError:
            return True

    async def _check(self, stored_hash: str, password: str) -> bool:
        async with self._slots:
            try:
                await asyncio.to_thread(self._hasher.verify, stored_hash, password)
            except VerifyMismatchError:
                return False
            except (VerificationError, InvalidHashError) as exc:
                log.warning("stored password hash cannot be verified: %s", exc)
                return False
            return True

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(_DUMMY_PASSWORD)
        return self._dummy_hash
