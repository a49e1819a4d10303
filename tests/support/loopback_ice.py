"""Let aiortc gather ICE candidates on 127.0.0.1 (tests only).

aioice skips loopback when it lists host addresses, so in a loopback-only network namespace an
aiortc peer would offer no candidate at all. Tests import `install()`; production never does.
"""

from __future__ import annotations

import aioice.ice


def _loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def install() -> None:
    aioice.ice.get_host_addresses = _loopback_only
