"""ICE servers for the browsers (calls and the check): STUN as configured, TURN with time-limited credentials.

Shared by `check/` (WHIP Link headers) and `signaling/` (the call's welcome), so it lives beside config.

TURN credentials follow the TURN REST API convention that coturn implements with `use-auth-secret` /
`static-auth-secret`: username = "<expiry, epoch seconds>:<user id>", credential =
base64(HMAC-SHA1(secret, username)). coturn recomputes the HMAC and refuses an expired username, so
nothing is stored and a leaked credential stops working after `turn_ttl_s`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from signlink.config import Settings


@dataclass(frozen=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
            out["credential"] = self.credential
        return out


def turn_credentials(secret: str, user_id: str, ttl_s: int, *, now: float | None = None) -> tuple[str, str]:
    """(username, credential) valid until now + ttl_s."""
    expiry = int(time.time() if now is None else now) + ttl_s
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(settings: Settings, user_id: str, *, now: float | None = None) -> tuple[IceServer, ...]:
    """What a browser gives RTCPeerConnection; empty when nothing is configured (loopback tests)."""
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=settings.stun_urls))
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_credentials(settings.turn_secret, user_id, settings.turn_ttl_s, now=now)
        servers.append(IceServer(urls=settings.turn_urls, username=username, credential=credential))
    return tuple(servers)
