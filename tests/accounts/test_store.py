"""AccountStore against a real Redis: accounts, sessions, revocation and login limits."""

from __future__ import annotations

import hashlib

import pytest
from redis.asyncio import Redis

from signlink.accounts import Account, AccountStore, Role
from signlink.config import Settings
from signlink.errors import BackendUnavailable, Conflict, NotFound

ANA = Account("ana", "Ana Li", Role.AGENT, ("CSL",), ("phone",), 1700000000.0)
QA = Account("quinn", "Quinn", Role.QA, created_at=1700000001.0)


@pytest.fixture
def store(redis: Redis, settings: Settings) -> AccountStore:
    return AccountStore(redis, settings.redis_prefix)


async def test_create_get_and_list(store: AccountStore) -> None:
    await store.create(ANA, "$argon2id$fake")
    await store.create(QA, "$argon2id$fake2")
    assert await store.get("ANA") == ANA
    assert await store.credentials("ana") == (ANA, "$argon2id$fake")
    assert await store.get("nobody") is None
    assert [a.username for a in await store.list_accounts()] == ["ana", "quinn"]


async def test_a_username_is_taken_once(store: AccountStore) -> None:
    await store.create(ANA, "h1")
    with pytest.raises(Conflict, match="taken"):
        await store.create(ANA, "h2")
    assert (await store.credentials("ana")) == (ANA, "h1")


async def test_updates_never_create_accounts(store: AccountStore, redis: Redis) -> None:
    with pytest.raises(NotFound):
        await store.set_disabled("ghost", True)
    with pytest.raises(NotFound):
        await store.set_password_hash("ghost", "h")
    assert await redis.keys("*ghost*") == []


async def test_session_lives_in_redis_hashed_with_expiry(store: AccountStore, redis: Redis) -> None:
    await store.create(ANA, "h")
    session = await store.create_session("ana", lifetime_s=600)
    assert await store.session(session.id) == session
    key = f"signlink:staff-session:{hashlib.sha256(session.id.encode()).hexdigest()}"
    assert 0 < await redis.ttl(key) <= 600
    assert not [k for k in await redis.keys("*") if session.id.encode() in k]
    assert session.csrf_token != session.id and len(session.id) >= 40
    await store.delete_session(session.id)
    assert await store.session(session.id) is None
    assert await store.session("made-up") is None


async def test_disabling_or_new_password_ends_every_session(store: AccountStore) -> None:
    await store.create(ANA, "h")
    first = await store.create_session("ana", 600)
    second = await store.create_session("ana", 600)
    await store.set_disabled("ana", True)
    assert await store.session(first.id) is None
    assert await store.session(second.id) is None
    assert (await store.get("ana")) == Account(**{**ANA.__dict__, "disabled": True})

    await store.set_disabled("ana", False)
    third = await store.create_session("ana", 600)
    await store.set_password_hash("ana", "h2")
    assert await store.session(third.id) is None
    assert await store.credentials("ana") == (ANA, "h2")


async def test_login_attempts_are_limited_per_username_and_address(store: AccountStore) -> None:
    limits = {"window_s": 900, "per_user": 3, "per_address": 5}
    for _ in range(3):
        assert await store.login_attempt("ana", "10.0.0.1", **limits) == 0
    retry = await store.login_attempt("ANA", "10.0.0.2", **limits)
    assert 0 < retry <= 900
    # Another name from the first address still has attempts left, until the address runs out.
    assert await store.login_attempt("bob", "10.0.0.1", **limits) == 0
    assert await store.login_attempt("cy", "10.0.0.1", **limits) == 0
    assert await store.login_attempt("dee", "10.0.0.1", **limits) > 0


async def test_a_correct_password_clears_the_username_count(store: AccountStore) -> None:
    limits = {"window_s": 900, "per_user": 2, "per_address": 50}
    assert await store.login_attempt("ana", "10.0.0.1", **limits) == 0
    assert await store.login_attempt("ana", "10.0.0.1", **limits) == 0
    await store.login_succeeded("ana", "10.0.0.1")
    assert await store.login_attempt("ana", "10.0.0.1", **limits) == 0


async def test_unreachable_redis_is_backend_unavailable() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await AccountStore(dead, "signlink").get("ana")
    finally:
        await dead.aclose()
