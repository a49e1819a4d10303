"""The embedded Redis: a private redis-server for `signlink serve` when no SIGNLINK_REDIS_URL is given.

Production points SIGNLINK_REDIS_URL at a shared Redis (docker-compose.yml). On a laptop, `make run`
needs nothing set up: if nothing answers on 127.0.0.1:6379 we start our own redis-server with the
append-only file on and data under var/, and stop it when signlink exits.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from signlink.errors import BackendUnavailable, ConfigError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6379
INSTALL_HINT = "install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or set SIGNLINK_REDIS_URL"


def is_listening(host: str, port: int, timeout_s: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


@dataclass
class EmbeddedRedis:
    """A redis-server child process; use as a context manager."""

    data_dir: Path
    port: int = DEFAULT_PORT
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{DEFAULT_HOST}:{self.port}/0"

    def __enter__(self) -> EmbeddedRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ConfigError(
                f"no Redis: nothing listens on {DEFAULT_HOST}:{self.port} and there is no "
                f"redis-server binary; {INSTALL_HINT}"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "--bind",
            DEFAULT_HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not is_listening(DEFAULT_HOST, self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise BackendUnavailable(f"redis-server did not start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.05)
        log.info("started a private redis-server on %s (data in %s)", self.url, self.data_dir)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            log.info("stopped the private redis-server")
        self.process = None
