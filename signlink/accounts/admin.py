"""Account administration: the checks and steps behind `signlink user ...` (and a future admin page)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from signlink.accounts.models import (
    Account,
    Role,
    validate_display_name,
    validate_skills,
    validate_username,
)
from signlink.accounts.passwords import Passwords, validate_password
from signlink.accounts.store import AccountStore
from signlink.config import Settings
from signlink.errors import BadRequest


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise BadRequest(f"unknown role {value!r}; roles: {roles}", status=422, code="bad_role") from None


async def add_account(
    store: AccountStore,
    passwords: Passwords,
    settings: Settings,
    *,
    username: str,
    display_name: str,
    role: Role,
    languages: Iterable[str],
    topics: Iterable[str],
    password: str,
) -> Account:
    """Validate everything first, then hash and store; Conflict when the username is taken."""
    langs, tops = validate_skills(
        role,
        languages,
        topics,
        allowed_languages=settings.sign_languages,
        allowed_topics=settings.topics,
    )
    account = Account(
        username=validate_username(username),
        display_name=validate_display_name(display_name),
        role=role,
        languages=langs,
        topics=tops,
        created_at=time.time(),
    )
    validate_password(password, min_length=settings.password_min_length)
    await store.create(account, await passwords.hash(password))
    return account


async def change_password(
    store: AccountStore, passwords: Passwords, settings: Settings, username: str, password: str
) -> None:
    """Set a new password and end every open session of the account."""
    validate_password(password, min_length=settings.password_min_length)
    await store.set_password_hash(username, await passwords.hash(password))
