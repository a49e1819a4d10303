"""First run: `signlink serve` says where every page is, whether a staff account exists and how to make
the first one; `signlink user add` says its password rule and, without a terminal, how to give the
password instead of a traceback."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import AccountStore, Role
from signlink.cli import first_run_text
from signlink.config import PROJECT_ROOT, Settings
from signlink.web.app import create_app
from tests.support.staff import add_account, login


def test_with_no_staff_account_serve_says_so_and_gives_the_command() -> None:
    text = first_run_text("http://localhost:8080", 12, [])
    for part in (
        "http://localhost:8080/",
        "/agent",
        "/qa",
        "no staff account exists yet",
        "signlink user add",
        "--role agent",
        "--role qa",
        "12 characters",
    ):
        assert part in text


async def test_with_staff_accounts_serve_counts_them_by_role(settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis, "ana")
    await add_account(settings, redis, "quinn", role=Role.QA)
    staff = await AccountStore(redis, settings.redis_prefix).list_accounts()
    text = first_run_text("http://localhost:8080", 12, staff)
    assert "staff accounts: 1 agent, 1 qa" in text
    assert "no staff account" not in text and "signlink user add --username" not in text
    # Unreadable (Redis away at start): the command is still there.
    assert "signlink user add --username" in first_run_text("http://localhost:8080", 12, None)


def test_serve_on_an_empty_redis_prints_the_pages_and_that_no_account_exists(settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "SIGNLINK_REDIS_URL": settings.redis_url,
        "SIGNLINK_REDIS_PREFIX": settings.redis_prefix,
        "SIGNLINK_PORT": str(port),
    }
    with subprocess.Popen(
        [sys.executable, "-m", "signlink", "serve"],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as server:
        assert server.stdout is not None
        lines = []
        try:
            for line in server.stdout:  # ends when the process does (a failure to start)
                lines.append(line)
                if "signlink user add" in line:
                    break
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = "".join(lines)
    assert f"http://localhost:{port}/agent" in text and f"http://localhost:{port}/qa" in text, text
    assert "no staff account exists yet" in text, text


def test_user_add_without_a_terminal_explains_instead_of_a_traceback(settings: Settings) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "signlink",
            "user",
            "add",
            "--username",
            "ana",
            "--name",
            "Ana",
            "--role",
            "agent",
        ],
        check=False,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "SIGNLINK_REDIS_URL": settings.redis_url,
            "SIGNLINK_REDIS_PREFIX": settings.redis_prefix,
        },
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--password-stdin" in result.stderr and "12 characters" in result.stderr


def signlink(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "signlink", *args],
        check=False,
        cwd=PROJECT_ROOT,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "SIGNLINK_REDIS_URL": settings.redis_url,
            "SIGNLINK_REDIS_PREFIX": settings.redis_prefix,
        },
    )


def test_user_add_help_says_the_password_rule_up_front(settings: Settings) -> None:
    result = signlink(settings, "user", "add", "--help")
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    assert f"at least {Settings.from_env({}).password_min_length} characters" in help_text
    assert "--password-stdin" in help_text


def test_a_short_password_on_stdin_is_refused_in_words(settings: Settings) -> None:
    add = ("user", "add", "--username", "ana", "--name", "Ana", "--role", "qa", "--password-stdin")
    result = signlink(settings, *add, stdin="short\n")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "at least 12 characters" in result.stderr
    ok = signlink(settings, *add, stdin="a long enough password\n")
    assert ok.returncode == 0, ok.stderr
    assert "added qa ana" in ok.stdout


async def test_demo_makes_an_agent_and_a_qa_account_that_can_log_in_once_only(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    made = signlink(settings, "demo")
    assert made.returncode == 0, made.stderr
    passwords = dict(re.findall(r"^  \w+ (demo-\w+) .*password: (\S+)$", made.stdout, re.M))
    assert set(passwords) == {"demo-agent", "demo-qa"}, made.stdout
    assert "/login as demo-agent" in made.stdout and "/qa" in made.stdout
    agent = await AccountStore(redis, settings.redis_prefix).get("demo-agent")
    assert agent is not None and agent.role is Role.AGENT
    assert set(agent.languages) == set(settings.sign_languages)
    client = await aiohttp_client(create_app(settings))
    for username, password in passwords.items():
        assert (await login(client, username, password)).status == 303
    again = signlink(settings, "demo")
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert "exist already" in again.stderr
