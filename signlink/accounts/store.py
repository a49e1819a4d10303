"""AccountStore: the one class that owns account, session and login-limit keys in Redis.

Keys (named by the Redis seam's Keyspace, all under `<root>:`):
  account:<username>          hash   an Account plus its password hash
  accounts                    set    every username
  staff-session:<sha256(id)>  hash   username, csrf token, created/expires; expires with the session
  account-sessions:<username> set    the session keys of one account, to revoke them all at once
  login-user:<sha256(name)>   string login attempts for a username in the current window
  login-addr:<address>        string login attempts from one client address in the current window

Session ids are stored hashed, so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import RedisError

from signlink.accounts.models import Account, Session, normalise_username
from signlink.errors import BackendUnavailable, Conflict, NotFound
from signlink.redisio import Keyspace, RedisClient, as_keyspace, is_cluster, load

log = logging.getLogger(__name__)

SESSION_ID_BYTES = 32
CSRF_TOKEN_BYTES = 32


_LUA = "signlink.accounts.lua"
_CREATE, _UPDATE = load(_LUA, "create_account"), load(_LUA, "update_account")
_ATTEMPT, _SUCCESS = load(_LUA, "login_attempt"), load(_LUA, "login_success")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _str(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _text(data: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_str(k): _str(v) for k, v in data.items()}


@asynccontextmanager
async def _backend() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise BackendUnavailable(f"the account store (Redis) is unreachable: {exc}") from exc


class AccountStore:
    def __init__(self, redis: RedisClient, keys: Keyspace | str) -> None:
        self._redis = redis
        self._keys = as_keyspace(keys, cluster=is_cluster(redis))

    def key(self, owner: str, *parts: str) -> str:
        """Every key this store touches is named here, by the deployment's Keyspace."""
        return self._keys.key(owner, *parts)

    # Accounts

    async def create(self, account: Account, password_hash: str) -> None:
        """Add an account; Conflict when the username is taken."""
        fields = {**account.to_fields(), "password_hash": password_hash}
        flat = [item for pair in fields.items() for item in pair]
        async with _backend():
            created = await _CREATE(
                self._redis,
                keys=[self.key("account", account.username), self.key("accounts")],
                args=[account.username, *flat],
            )
        if not created:
            raise Conflict(f"the username {account.username!r} is taken")
        log.info("account %s created (role %s)", account.username, account.role.value)

    async def get(self, username: str) -> Account | None:
        found = await self.credentials(username)
        return found[0] if found else None

    async def credentials(self, username: str) -> tuple[Account, str] | None:
        """The account and its password hash, for the login check only."""
        async with _backend():
            raw = await self._redis.hgetall(self.key("account", normalise_username(username)))
        if not raw:
            return None
        data = _text(raw)
        return Account.from_fields(data), data.get("password_hash", "")

    async def list_accounts(self) -> list[Account]:
        async with _backend():
            names = sorted(_str(n) for n in await self._redis.smembers(self.key("accounts")))
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(self.key("account", name))
            rows = await pipe.execute()
        return [Account.from_fields(_text(row)) for row in rows if row]

    async def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (and log out everywhere) or re-enable an account; NotFound if absent."""
        await self._update_fields(username, {"disabled": "1" if disabled else "0"})
        if disabled:
            await self.revoke_sessions(username)

    async def set_password_hash(self, username: str, password_hash: str, *, revoke: bool = True) -> None:
        """Store a new hash; with `revoke` every open session of the account ends."""
        await self._update_fields(username, {"password_hash": password_hash})
        if revoke:
            await self.revoke_sessions(username)

    async def _update_fields(self, username: str, fields: dict[str, str]) -> None:
        username = normalise_username(username)
        flat = [item for pair in fields.items() for item in pair]
        async with _backend():
            updated = await _UPDATE(self._redis, keys=[self.key("account", username)], args=flat)
        if not updated:
            raise NotFound(f"there is no account {username!r}")

    # Sessions

    async def create_session(self, username: str, lifetime_s: int) -> Session:
        now = time.time()
        session = Session(
            id=secrets.token_urlsafe(SESSION_ID_BYTES),
            username=normalise_username(username),
            csrf_token=secrets.token_urlsafe(CSRF_TOKEN_BYTES),
            created_at=now,
            expires_at=now + lifetime_s,
        )
        digest = _sha256(session.id)
        key, index = self.key("staff-session", digest), self.key("account-sessions", session.username)
        async with _backend(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "username": session.username,
                    "csrf_token": session.csrf_token,
                    "created_at": repr(session.created_at),
                    "expires_at": repr(session.expires_at),
                },
            )
            pipe.expire(key, lifetime_s)
            pipe.sadd(index, digest)
            pipe.expire(index, lifetime_s, gt=True)
            pipe.expire(index, lifetime_s, nx=True)
            await pipe.execute()
        return session

    async def session(self, session_id: str) -> Session | None:
        """The live session with this id, or None (unknown, expired or logged out)."""
        if not session_id or len(session_id) > 128:
            return None
        async with _backend():
            raw = await self._redis.hgetall(self.key("staff-session", _sha256(session_id)))
        if not raw:
            return None
        data = _text(raw)
        return Session(
            id=session_id,
            username=data["username"],
            csrf_token=data["csrf_token"],
            created_at=float(data["created_at"]),
            expires_at=float(data["expires_at"]),
        )

    async def delete_session(self, session_id: str) -> None:
        digest = _sha256(session_id)
        async with _backend():
            raw = await self._redis.hget(self.key("staff-session", digest), "username")
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self.key("staff-session", digest))
                if raw:
                    pipe.srem(self.key("account-sessions", _str(raw)), digest)
                await pipe.execute()

    async def revoke_sessions(self, username: str) -> int:
        """End every session of an account (disable, new password); returns how many were open."""
        index = self.key("account-sessions", normalise_username(username))

        # Every login that exists now ends; one made meanwhile (a new password's) stays. Plain
        # commands, not WATCH, so the same code runs on Redis Cluster (the keys share one slot there).
        async with _backend():
            digests = [_str(d) for d in await self._redis.smembers(index)]
            if digests:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.delete(*(self.key("staff-session", d) for d in digests))
                    pipe.srem(index, *digests)
                    await pipe.execute()
        count = len(digests)
        if count:
            log.info("ended %s session(s) of %s", count, username)
        return count

    # Login limits

    async def login_attempt(
        self, username: str, address: str, *, window_s: int, per_user: int, per_address: int
    ) -> int:
        """Count an attempt before the password is checked: 0 to go ahead, else seconds to wait."""
        async with _backend():
            retry = await _ATTEMPT(
                self._redis, keys=self._limit_keys(username, address), args=[window_s, per_user, per_address]
            )
        return int(retry)

    async def login_succeeded(self, username: str, address: str) -> None:
        async with _backend():
            await _SUCCESS(self._redis, keys=self._limit_keys(username, address))

    def _limit_keys(self, username: str, address: str) -> list[str]:
        # Hashing the typed name keeps odd or huge input out of key names.
        name = _sha256(normalise_username(username)[:256])
        return [self.key("login-user", name), self.key("login-addr", address[:64])]
