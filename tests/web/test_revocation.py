"""An agent's socket ends with the login, on every process, whatever the client sends: disable, logout
in another process, a new password, expiry. The console here never pings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import cast

import pytest

from signlink.accounts import AccountStore, Passwords
from signlink.queue.models import AgentStatus
from signlink.web import keys
from signlink.web.ws import REVOCATIONS
from tests.signaling.call_client import App, CallKit, kit
from tests.support.staff import Client, csrf_token

__all__ = ["kit"]
WITHIN_S = 3.0  # below the periodic session check (5 s): the revocation itself closed it


async def _ready(*apps: App) -> None:
    for app in apps:
        await app.app[REVOCATIONS].ready.wait()


async def _disable(kit: CallKit, other: App, _agent: Client) -> None:
    await AccountStore(kit.redis, kit.settings.redis_prefix).set_disabled("ana", True)  # as the CLI does


async def _new_password(kit: CallKit, other: App, _agent: Client) -> None:
    store = AccountStore(kit.redis, kit.settings.redis_prefix)
    await store.set_password_hash("ana", await Passwords().hash("another long password"))


async def _logout_elsewhere(kit: CallKit, other: App, agent: Client) -> None:
    # The same login (its cookie) logs out through the other process.
    elsewhere = cast(Client, await kit._client(other.server))  # a second client of the kit's
    elsewhere.session.cookie_jar.update_cookies(agent.session.cookie_jar.filter_cookies(agent.make_url("/")))
    token = await csrf_token(elsewhere)
    response = await elsewhere.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert response.status == 303


Revoke = Callable[[CallKit, App, Client], Awaitable[None]]


@pytest.mark.parametrize("revoke", [_disable, _new_password, _logout_elsewhere], ids=lambda f: f.__name__)
async def test_an_ended_login_closes_the_agents_socket_on_every_process(kit: CallKit, revoke: Revoke) -> None:
    home, other = await kit.app(), await kit.app()
    agent, agent_ws, _ = await kit.agent(home)
    await _ready(home, other)
    await revoke(kit, other, agent.app)
    assert await agent_ws.closed(within=WITHIN_S) == 4401
    assert {"type": "error", "code": "unauthenticated", "message": "your login has ended"} in agent_ws.seen
    # Off the queue as well: no customer is offered to the closed console.
    await agent_ws.ws.close()
    queue = home.app[keys.QUEUE]
    for _ in range(50):
        if (await queue.get_agent("ana")).status is AgentStatus.OFFLINE:
            break
        await asyncio.sleep(0.05)
    assert (await queue.get_agent("ana")).status is AgentStatus.OFFLINE


async def test_a_login_that_expires_closes_the_socket(kit: CallKit) -> None:
    app = await kit.app(session_lifetime_s=2)
    _agent, agent_ws, _ = await kit.agent(app)
    assert await agent_ws.closed(within=2 + WITHIN_S) == 4401
    assert agent_ws.seen[-1] == {
        "type": "error",
        "code": "unauthenticated",
        "message": "your login has ended",
    }


async def test_logging_out_one_login_leaves_the_accounts_other_logins_alone(kit: CallKit) -> None:
    app = await kit.app()
    _agent, agent_ws, _ = await kit.agent(app)
    await _ready(app)
    other_login = await kit.logged_in(app, "ana")  # a second login of the same account (another browser)
    token = await csrf_token(other_login)
    await other_login.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    await agent_ws.ping()  # still served
    assert not agent_ws.ws.closed
