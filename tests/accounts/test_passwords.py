"""argon2id hashing: the round trip, the algorithm and its cost, the unknown-user path."""

from __future__ import annotations

import argon2
import pytest

from signlink.accounts.passwords import Passwords, validate_password
from signlink.errors import BadRequest


async def test_hash_verifies_the_right_password_only() -> None:
    passwords = Passwords()
    hashed = await passwords.hash("correct horse battery staple")
    assert await passwords.verify(hashed, "correct horse battery staple")
    assert not await passwords.verify(hashed, "correct horse battery stapler")
    assert "correct horse" not in hashed


async def test_hash_is_argon2id_with_rfc9106_memory_cost() -> None:
    hashed = await Passwords().hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$")
    params = argon2.extract_parameters(hashed)
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 64 * 1024  # KiB: memory-hard, not a fast hash
    assert params.time_cost >= 3


async def test_same_password_hashes_differently_each_time() -> None:
    passwords = Passwords()
    assert await passwords.hash("correct horse battery staple") != await passwords.hash(
        "correct horse battery staple"
    )


async def test_unknown_user_path_verifies_nothing() -> None:
    passwords = Passwords()
    assert not await passwords.verify(None, "signlink-no-such-account")
    assert not await passwords.verify(None, "anything at all")


async def test_broken_stored_hash_is_a_failed_login_not_a_crash() -> None:
    assert not await Passwords().verify("not-a-hash", "anything")


async def test_weaker_old_hashes_are_marked_for_rehash() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw pw pw pw pw")
    passwords = Passwords()
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(await passwords.hash("pw pw pw pw pw"))


def test_password_length_rules() -> None:
    assert validate_password("x" * 12, min_length=12) == "x" * 12
    with pytest.raises(BadRequest, match="at least 12"):
        validate_password("x" * 11, min_length=12)
    with pytest.raises(BadRequest, match="at most"):
        validate_password("x" * 1025, min_length=12)
