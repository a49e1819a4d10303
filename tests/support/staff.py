"""Staff accounts and logins for tests: real argon2 hashing, real Redis, the real /login form."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from signlink.accounts import Account, AccountStore, Passwords, Role, admin
from signlink.config import Settings

PASSWORD = "correct horse battery staple"
Client = TestClient[web.Request, web.Application]
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def add_account(
    settings: Settings,
    redis: Redis,
    username: str = "ana",
    *,
    role: Role = Role.AGENT,
    display_name: str = "Ana Li",
    languages: Sequence[str] = ("CSL", "ASL"),
    topics: Sequence[str] = ("phone", "pc"),
    password: str = PASSWORD,
) -> Account:
    store = AccountStore(redis, settings.redis_prefix)
    return await admin.add_account(
        store,
        Passwords(),
        settings,
        username=username,
        display_name=display_name,
        role=role,
        languages=languages if role is Role.AGENT else (),
        topics=topics if role is Role.AGENT else (),
        password=password,
    )


async def login(
    client: Client, username: str = "ana", password: str = PASSWORD, next_path: str | None = None
) -> ClientResponse:
    """POST the login form; the client's cookie jar keeps the session. Redirects are not followed."""
    form = {"username": username, "password": password}
    if next_path is not None:
        form["next"] = next_path
    return await client.post("/login", data=form, allow_redirects=False)


async def csrf_token(client: Client) -> str:
    """The CSRF token of the client's session, read from the login page like a page script would."""
    html = await (await client.get("/login")).text()
    found = _CSRF_META.search(html)
    assert found, "no csrf-token meta: is the client logged in?"
    return found.group(1)
