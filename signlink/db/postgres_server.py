"""The embedded PostgreSQL: a private `postgres` for `signlink serve` when SIGNLINK_DATABASE_URL is empty.

Production points SIGNLINK_DATABASE_URL at a shared PostgreSQL (docker-compose.yml). On a laptop, `make
run` needs nothing set up: a PostgreSQL that answers on the local socket or 127.0.0.1:5432 and lets us
create our database is used; else we start Debian's `postgres` (package postgresql, installed by
scripts/system-deps.sh) with its data under var/postgres, listening only on a socket in that folder,
and stop it when signlink exits. As root, initdb and the server run as the `postgres` user (initdb
refuses root), so that folder belongs to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from signlink.errors import BackendUnavailable, ConfigError

log = logging.getLogger(__name__)

PG_BIN_DIRS = tuple(Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13))
INSTALL_HINT = (
    "install it with `sudo apt-get install postgresql` (Debian/Ubuntu) or set SIGNLINK_DATABASE_URL"
)
SERVER_USER = "postgres"  # who runs initdb and the server when we are root


def pg_bin(name: str) -> Path | None:
    """A PostgreSQL program: Debian keeps them off PATH, in /usr/lib/postgresql/<version>/bin."""
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return folder / name
    found = shutil.which(name)
    return Path(found) if found else None


def as_server_user(cmd: list[str]) -> list[str]:
    """`cmd` run as the postgres user when we are root (initdb and postgres refuse to run as root)."""
    if os.geteuid() != 0:
        return cmd
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ConfigError(f"running as root needs the {SERVER_USER!r} user; {INSTALL_HINT}") from None
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


def give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer:
    """A private postgres listening on a Unix socket in `data_dir` (and optionally 127.0.0.1:port).
    `start()` runs initdb the first time; `stop()` is a fast shutdown. Use as a context manager."""

    data_dir: Path
    port: int = 5432
    tcp: bool = False  # also listen on 127.0.0.1:port
    fsync: bool = True  # off only in tests
    user: str = "signlink"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def _run(self, cmd: list[str], what: str) -> None:
        done = subprocess.run(as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackendUnavailable(f"{what} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self) -> PostgresServer:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise ConfigError(f"no PostgreSQL server programs (initdb, pg_ctl); {INSTALL_HINT}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        give_to_server_user(self.data_dir)
        os.chmod(self.data_dir, 0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            cmd = [str(initdb), "-D", str(self.data_dir), "-A", "trust", "-U", self.user, "-E", "UTF8"]
            self._run([*cmd, "--no-instructions", "--locale=C.UTF-8"], "initdb")
        options = [
            f"-p {self.port}",
            f"-k {self.socket_dir}",
            f"-c listen_addresses={'127.0.0.1' if self.tcp else chr(39) * 2}",
        ]
        if not self.fsync:
            # Commits still reach the OS at once (a killed server loses nothing); only disk flushes go.
            options += ["-c fsync=off", "-c full_page_writes=off"]
        log_file = self.data_dir / "postgres.log"
        cmd = [str(pg_ctl), "-D", str(self.data_dir), "-o", " ".join(options), "-l", str(log_file)]
        self._run([*cmd, "-w", "-t", "30", "start"], f"starting postgres (see {log_file})")
        log.info("started a private postgres (data in %s)", self.data_dir)
        return self

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = pg_bin("pg_ctl")
        if pg_ctl is None or not (self.data_dir / "postmaster.pid").exists():
            return
        with contextlib.suppress(BackendUnavailable):
            self._run([str(pg_ctl), "-D", str(self.data_dir), "-m", mode, "-w", "stop"], "stopping postgres")
            log.info("stopped the private postgres")

    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
