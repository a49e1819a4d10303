"""`signlink user ...`: add, list, disable, enable staff accounts and set their passwords.

Talks to the Redis of SIGNLINK_REDIS_URL (127.0.0.1:6379 when unset), the one `signlink serve` uses.
Passwords come from a prompt (asked twice) or, for scripts, from stdin with --password-stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.accounts import admin, demo
from signlink.accounts.models import Account, Role, validate_username
from signlink.accounts.passwords import Passwords
from signlink.accounts.store import AccountStore
from signlink.config import Settings
from signlink.errors import BackendUnavailable, BadRequest, NotFound

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD_RULE = (
    "The password needs at least 12 characters (SIGNLINK_PASSWORD_MIN_LENGTH sets another minimum). "
    "At a terminal it is asked twice; from a script or a pipe give it on stdin with --password-stdin."
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="manage staff accounts (agents, QA, supervisors, admins)")
    actions = user.add_subparsers(dest="user_action", required=True)

    add = actions.add_parser("add", help="create an account", epilog=PASSWORD_RULE)
    add.add_argument("--username", required=True, help="2-32 characters: a-z 0-9 . _ -")
    add.add_argument("--name", required=True, help="display name shown to customers and colleagues")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--languages", default="", help="sign languages served, comma-separated (agents)")
    add.add_argument("--topics", default="", help="topics served, comma-separated (agents)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    actions.add_parser("list", help="list every account")
    for name, text in (("disable", "turn an account off and end its sessions"), ("enable", "turn it on")):
        action = actions.add_parser(name, help=text)
        action.add_argument("username")
    passwd = actions.add_parser(
        "passwd", help="set a new password (ends the account's sessions)", epilog=PASSWORD_RULE
    )
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands.add_parser(
        "demo",
        help="make a demo agent and QA account (only while no staff account exists) to try a call",
    )


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    return asyncio.run(_run(settings, args.user_action, args, out or sys.stdout))


def run_demo(settings: Settings, out: TextIO | None = None) -> int:
    return asyncio.run(_run(settings, "demo", argparse.Namespace(), out or sys.stdout))


async def _run(settings: Settings, name: str, args: argparse.Namespace, out: TextIO) -> int:
    url = settings.redis_url or DEFAULT_REDIS_URL
    redis = Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=5.0)
    try:
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(
                f"cannot reach Redis at {_redacted(url)} ({exc}). Start Redis (or `signlink serve`), "
                "or point SIGNLINK_REDIS_URL at the Redis the service uses."
            ) from exc
        store = AccountStore(redis, settings.redis_prefix)
        action: Callable[[AccountStore, Settings, argparse.Namespace, TextIO], Awaitable[None]] = {
            "add": _add,
            "list": _list,
            "disable": _disable,
            "enable": _enable,
            "passwd": _passwd,
            "demo": _demo,
        }[name]
        await action(store, settings, args, out)
    finally:
        await redis.aclose()
    return 0


async def _add(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    username = validate_username(args.username)
    account = await admin.add_account(
        store,
        Passwords(),
        settings,
        username=username,
        display_name=args.name,
        role=admin.parse_role(args.role),
        languages=args.languages.split(","),
        topics=args.topics.split(","),
        password=_read_password(username, args.password_stdin, settings.password_min_length),
    )
    print(f"added {_describe(account)}", file=out)


async def _demo(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    made = await demo.create_demo(store, Passwords(), settings)
    host = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0") else settings.host
    url = f"http://{host}:{settings.port}"
    print(
        "demo accounts (to try signlink; disable them with `signlink user disable` before real use):",
        file=out,
    )
    for account, password in made:
        print(f"  {_describe(account)}  password: {password}", file=out)
    agent, qa = (account.username for account, _ in made)
    print("Try a call in two windows:", file=out)
    print(f"  1. {url}/login as {agent}, then choose Available", file=out)
    print(f"  2. {url}/ in another window (a private one works), as a customer", file=out)
    print(f"  The call then shows on {url}/qa (log in as {qa}).", file=out)


async def _list(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    accounts = await store.list_accounts()
    if not accounts:
        print("no accounts yet: add one with `signlink user add`", file=out)
        return
    rows = [("USERNAME", "ROLE", "NAME", "LANGUAGES", "TOPICS", "STATUS", "CREATED (UTC)")]
    rows += [
        (
            a.username,
            a.role.value,
            a.display_name,
            ",".join(a.languages) or "-",
            ",".join(a.topics) or "-",
            "disabled" if a.disabled else "active",
            datetime.fromtimestamp(a.created_at, UTC).strftime("%Y-%m-%d %H:%M"),
        )
        for a in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(line.rstrip(), file=out)


async def _disable(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    username = validate_username(args.username)
    await store.set_disabled(username, True)
    print(f"disabled {username}; their open sessions have ended", file=out)


async def _enable(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    username = validate_username(args.username)
    await store.set_disabled(username, False)
    print(f"enabled {username}", file=out)


async def _passwd(store: AccountStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    username = validate_username(args.username)
    if await store.get(username) is None:
        raise NotFound(f"there is no account {username!r}")
    await admin.change_password(
        store,
        Passwords(),
        settings,
        username,
        _read_password(username, args.password_stdin, settings.password_min_length),
    )
    print(f"new password set for {username}; their open sessions have ended", file=out)


def _read_password(username: str, from_stdin: bool, min_length: int) -> str:
    if not from_stdin and not sys.stdin.isatty():
        raise BadRequest(
            "no terminal to ask for the password: give it on stdin with --password-stdin "
            f"(at least {min_length} characters)"
        )
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise BadRequest("no password on stdin")
        return password
    print(f"A password needs at least {min_length} characters.", file=sys.stderr)
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Same password again: ") != first:
        raise BadRequest("the two passwords differ; nothing was changed")
    return first


def _describe(account: Account) -> str:
    skills = ""
    if account.languages or account.topics:
        skills = f": {', '.join(account.languages) or '-'} / {', '.join(account.topics) or '-'}"
    return f"{account.role.value} {account.username} ({account.display_name}){skills}"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
