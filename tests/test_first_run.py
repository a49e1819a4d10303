"""First run: `signlink serve` says where every page is and how to make the first staff account;
`signlink user add` without a terminal says how to give the password instead of a traceback."""

from __future__ import annotations

import subprocess
import sys

from signlink.cli import first_run_text
from signlink.config import PROJECT_ROOT, Settings


def test_serve_prints_the_three_pages_and_the_first_account_command() -> None:
    text = first_run_text("http://localhost:8080", 12)
    for part in (
        "http://localhost:8080/",
        "/agent",
        "/qa",
        "signlink user add",
        "--role agent",
        "12 characters",
    ):
        assert part in text


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
