"""ICE servers and TURN credentials (the TURN REST API convention), checked with openssl and a real coturn."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aioice import stun, turn

from signlink.config import Settings
from signlink.ice import IceServer, ice_servers, turn_credentials
from tests.support.redis_proc import free_port

SECRET = "north-wind-4c1b9"


def openssl_hmac_sha1_base64(secret: str, message: str) -> str:
    """The same HMAC from an independent implementation."""
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-hmac", secret, "-binary"],
        input=message.encode(),
        capture_output=True,
        check=True,
    ).stdout
    return subprocess.run(["base64"], input=digest, capture_output=True, check=True).stdout.decode().strip()


def test_turn_username_is_expiry_colon_id_and_the_credential_is_base64_hmac_sha1() -> None:
    username, credential = turn_credentials(SECRET, "t000000000042", 3600, now=1_800_000_000.7)
    assert username == "1800003600:t000000000042"
    if shutil.which("openssl"):
        assert credential == openssl_hmac_sha1_base64(SECRET, username)
    assert len(credential) == 28  # 20 bytes of SHA-1, base64


def test_ice_servers_come_from_the_settings() -> None:
    assert ice_servers(Settings(), "ana") == ()
    stun_only = Settings(stun_urls=("stun:stun.example.org:3478",))
    assert ice_servers(stun_only, "ana") == (IceServer(("stun:stun.example.org:3478",)),)
    # TURN without a secret cannot be used: left out rather than sent without credentials.
    assert ice_servers(Settings(turn_urls=("turn:turn.example.org:3478",)), "ana") == ()
    both = Settings(
        stun_urls=("stun:stun.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"),
        turn_secret=SECRET,
        turn_ttl_s=600,
    )
    stun_server, turn_server = ice_servers(both, "ana", now=1_800_000_000)
    assert turn_server.to_wire() == {
        "urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"],
        "username": "1800000600:ana",
        "credential": turn_credentials(SECRET, "ana", 600, now=1_800_000_000)[1],
    }
    assert stun_server.to_wire() == {"urls": ["stun:stun.example.org:3478"]}


# Against a real coturn (use-auth-secret), on loopback.


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn is not installed (apt-get install coturn)")
    port = free_port()
    cmd = [
        binary,
        "-n",
        "--listening-ip=127.0.0.1",
        f"--listening-port={port}",
        "--relay-ip=127.0.0.1",
        "--min-port=49160",
        "--max-port=49200",
        "--use-auth-secret",
        f"--static-auth-secret={SECRET}",
        "--realm=signlink",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--allow-loopback-peers",
        f"--log-file={tmp_path / 'turn.log'}",
        "--pidfile=" + str(tmp_path / "turn.pid"),
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # coturn gives no readiness signal; allocations below retry anyway
    yield port
    process.terminate()
    process.wait(timeout=10)


async def allocate(port: int, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation through coturn; its relayed address."""
    transport, _protocol = await turn.create_turn_endpoint(
        asyncio.DatagramProtocol, ("127.0.0.1", port), username=username, password=password, lifetime=60
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


async def test_coturn_accepts_our_credentials_and_refuses_wrong_or_expired_ones(coturn: int) -> None:
    username, credential = turn_credentials(SECRET, "t000000000042", 600)
    relayed = None
    for _ in range(20):  # until coturn listens
        try:
            relayed = await allocate(coturn, username, credential)
            break
        except ConnectionRefusedError:
            await asyncio.sleep(0.1)
    assert relayed is not None and relayed[0] == "127.0.0.1"

    _, forged = turn_credentials("another-secret", "t000000000042", 600)
    with pytest.raises(stun.TransactionFailed) as wrong:
        await allocate(coturn, username, forged)
    assert wrong.value.response.attributes["ERROR-CODE"][0] == 401
    expired_name, expired_credential = turn_credentials(SECRET, "t000000000042", -60)
    with pytest.raises(stun.TransactionFailed) as expired:
        await allocate(coturn, expired_name, expired_credential)
    assert expired.value.response.attributes["ERROR-CODE"][0] == 401
