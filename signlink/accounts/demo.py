"""`signlink demo`: a demo agent and a demo QA account on a deployment with no staff account yet, so a
newcomer can try a call in two browser windows at once. Refused once any account exists."""

from __future__ import annotations

import secrets

from signlink.accounts import admin
from signlink.accounts.models import Account, Role
from signlink.accounts.passwords import Passwords
from signlink.accounts.store import AccountStore
from signlink.config import Settings
from signlink.errors import Conflict

DEMO_ACCOUNTS = (("demo-agent", "Demo Agent", Role.AGENT), ("demo-qa", "Demo QA", Role.QA))


async def create_demo(
    store: AccountStore, passwords: Passwords, settings: Settings
) -> list[tuple[Account, str]]:
    """The demo accounts with their new random passwords; the agent serves every language and topic."""
    if await store.list_accounts():
        raise Conflict(
            "staff accounts exist already: `signlink demo` only sets up a deployment that has none "
            "(add more with `signlink user add`)"
        )
    made = []
    for username, name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(max(settings.password_min_length, 16))
        agent = role is Role.AGENT
        account = await admin.add_account(
            store,
            passwords,
            settings,
            username=username,
            display_name=name,
            role=role,
            languages=settings.sign_languages if agent else (),
            topics=settings.topics if agent else (),
            password=password,
        )
        made.append((account, password))
    return made
