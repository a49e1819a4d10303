"""`signlink user ...` end to end: the real CLI entry point against a private Redis."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import redis as sync_redis

from signlink.cli import main
from tests.support.redis_proc import RedisProcess, free_port

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cli_env(redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with sync_redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    monkeypatch.setenv("SIGNLINK_REDIS_URL", redis_server.url)
    yield


class Terminal(io.StringIO):
    """stdin as a terminal (the prompt reads through getpass, patched by the test)."""

    def isatty(self) -> bool:
        return True


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str = "",
    tty: bool = False,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", Terminal(stdin) if tty else io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def add_ana(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run(
        monkeypatch,
        capsys,
        *("user", "add", "--role", "agent", "--username", "ana", "--name", "Ana Li"),
        *("--languages", "CSL,ASL", "--topics", "phone,pc", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )


@pytest.mark.usefixtures("cli_env")
def test_add_then_list(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = add_ana(monkeypatch, capsys)
    assert code == 0
    assert "added agent ana (Ana Li): CSL, ASL / phone, pc" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        *("user", "add", "--role", "qa", "--username", "Quinn", "--name", "李 Quinn", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["USERNAME", "ROLE", "NAME"]
    assert lines[1].split()[:6] == ["ana", "agent", "Ana", "Li", "CSL,ASL", "phone,pc"]
    assert "active" in lines[1]
    assert lines[2].split()[:3] == ["quinn", "qa", "李"]
    assert PASSWORD not in out and "argon2" not in out


@pytest.mark.usefixtures("cli_env")
def test_add_refuses_duplicates_bad_skills_and_short_passwords(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_ana(monkeypatch, capsys)[0] == 0
    code, _, err = add_ana(monkeypatch, capsys)
    assert code == 2 and "taken" in err
    base = ("user", "add", "--role", "agent", "--username", "bo", "--name", "Bo", "--password-stdin")
    code, _, err = run(monkeypatch, capsys, *base, "--languages", "XSL", "--topics", "pc", stdin=PASSWORD)
    assert code == 2 and "unknown sign language XSL" in err and "CSL" in err
    code, _, err = run(monkeypatch, capsys, *base, "--languages", "CSL", "--topics", "pc", stdin="short\n")
    assert code == 2 and "at least 12 characters" in err
    code, out, _ = run(monkeypatch, capsys, "user", "list")
    assert "bo " not in out


@pytest.mark.usefixtures("cli_env")
def test_disable_enable_and_unknown_user(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_ana(monkeypatch, capsys)
    code, out, _ = run(monkeypatch, capsys, "user", "disable", "ana")
    assert code == 0 and "disabled ana" in out
    assert "disabled" in run(monkeypatch, capsys, "user", "list")[1].splitlines()[1]
    assert run(monkeypatch, capsys, "user", "enable", "ana")[0] == 0
    assert "active" in run(monkeypatch, capsys, "user", "list")[1].splitlines()[1]
    code, _, err = run(monkeypatch, capsys, "user", "disable", "ghost")
    assert code == 2 and "no account 'ghost'" in err


@pytest.mark.usefixtures("cli_env")
def test_passwd_from_prompt_asks_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_ana(monkeypatch, capsys)
    typed = iter(["a brand new password", "a brand new passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    code, _, err = run(monkeypatch, capsys, "user", "passwd", "ana", tty=True)
    assert code == 2 and "differ" in err and "at least 12 characters" in err
    typed = iter(["a brand new password", "a brand new password"])
    code, out, _ = run(monkeypatch, capsys, "user", "passwd", "ana", tty=True)
    assert code == 0 and "new password set for ana" in out


def test_unreachable_redis_is_said_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("SIGNLINK_REDIS_URL", url)
    code, _, err = run(monkeypatch, capsys, "user", "list")
    assert code == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1" in err
    assert "SIGNLINK_REDIS_URL" in err and "secret" not in err
