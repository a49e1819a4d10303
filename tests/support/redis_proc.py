"""Private redis-server processes for tests: one server (persistence, kill -9, outages), a 3-node Redis
Cluster, and a Sentinel group (a primary, a replica, three sentinels), all on private loopback ports."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cluster_port() -> int:
    """A free port P whose cluster bus port P + 10000 is free too."""
    while True:
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


def command(port: int, *words: str, timeout_s: float = 0.5) -> bytes:
    """One inline command to 127.0.0.1:port; its raw reply (b"" if nothing answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(" ".join(words).encode() + b"\r\n")
            data = sock.recv(65536)
            return data
    except OSError:
        return b""


def wait_for(what: str, ok: Callable[[int], bool], port: int, timeout_s: float = 20.0) -> None:
    """Poll ok(port) until it holds."""
    deadline = time.monotonic() + timeout_s
    while not ok(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class RedisProcess:
    """A redis-server on 127.0.0.1:<port>; `appendonly` turns on the AOF with fsync always."""

    data_dir: Path
    appendonly: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/system-deps.sh test installs it)"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        if self.appendonly:
            cmd += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            cmd += ["--appendonly", "no"]
        cmd += list(self.extra)
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)
        # A listening socket may still be loading the AOF: wait until it answers PING.
        while self._ping() != b"+PONG\r\n":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server never answered PING")
            time.sleep(0.02)
        return self

    def _ping(self) -> bytes:
        return command(self.port, "PING")

    def kill(self) -> None:
        """kill -9: no shutdown, no final fsync."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class ClusterProcesses:
    """Three `redis-server --cluster-enabled yes` primaries joined by `redis-cli --cluster create`."""

    data_dir: Path
    nodes: list[RedisProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes) + "/"

    def start(self, size: int = 3) -> ClusterProcesses:
        for i in range(size):
            folder = self.data_dir / f"node{i}"
            extra = ("--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf"))
            self.nodes.append(RedisProcess(folder, port=cluster_port(), extra=extra).start())
        cli = shutil.which("redis-cli")
        assert cli, "redis-cli is not installed (it comes with redis-server)"
        create = [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes)]
        subprocess.run(
            [*create, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in self.nodes:
            wait_for(
                "cluster_state:ok",
                lambda port: b"cluster_state:ok" in command(port, "CLUSTER", "INFO"),
                n.port,
            )
        return self

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


SERVICE = "signlink"


@dataclass
class SentinelProcesses:
    """A primary, one replica and three sentinels (quorum 2) watching them as service "signlink"."""

    data_dir: Path
    down_after_ms: int = 1000
    primary: RedisProcess | None = None
    replica: RedisProcess | None = None
    sentinels: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sentinel_ports: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> SentinelProcesses:
        no_delay = ("--repl-diskless-sync-delay", "0")  # the replica syncs at once, not after 5 s
        self.primary = RedisProcess(self.data_dir / "primary", extra=no_delay).start()
        replica_of = ("--replicaof", "127.0.0.1", str(self.primary.port), *no_delay)
        replica = self.replica = RedisProcess(self.data_dir / "replica", extra=replica_of).start()
        wait_for(
            "the replica in sync", lambda port: b"master_link_status:up" in self.info(port), replica.port
        )
        binary = shutil.which("redis-server")
        assert binary
        # Each sentinel is told of the others and of the replica up front (known-sentinel, known-replica),
        # so the group is ready at once instead of after a few rounds of hello messages.
        self.sentinel_ports = [free_port() for _ in range(3)]
        ids = [f"{i + 1:040x}" for i in range(3)]
        for i, port in enumerate(self.sentinel_ports):
            folder = self.data_dir / f"sentinel{i}"
            folder.mkdir(parents=True, exist_ok=True)
            conf = folder / "sentinel.conf"
            others = "".join(
                f"sentinel known-sentinel {SERVICE} 127.0.0.1 {p} {ids[j]}\n"
                for j, p in enumerate(self.sentinel_ports)
                if j != i
            )
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile {folder / 'log'}\n"
                f"sentinel myid {ids[i]}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
                f"sentinel known-replica {SERVICE} 127.0.0.1 {self.replica.port}\n{others}"
            )
            command_line = [binary, str(conf), "--sentinel"]
            self.sentinels.append(
                subprocess.Popen(command_line, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        for port in self.sentinel_ports:  # each knows the replica and the two other sentinels
            wait_for("sentinels to find each other and the replica", self._ready, port)
        return self

    @staticmethod
    def _ready(port: int) -> bool:
        return command(port, "SENTINEL", "SENTINELS", SERVICE).startswith(b"*2\r\n") and command(
            port, "SENTINEL", "REPLICAS", SERVICE
        ).startswith(b"*1\r\n")

    @staticmethod
    def info(port: int) -> bytes:
        return command(port, "INFO", "replication")

    def primary_port(self) -> int:
        """The primary's port as the sentinels see it now."""
        reply = command(self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        return int(reply.split(b"\r\n")[-2])

    def stop(self) -> None:
        for proc in self.sentinels:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        for server in (self.primary, self.replica):
            if server is not None:
                server.stop()
