"""What several benchmarks share: the loopback-only guard, the fd limit, an in-process server."""

from __future__ import annotations

import contextlib
import resource
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from signlink.config import Settings
from signlink.web.app import create_app
from tests.support.redis_proc import free_port


def require_loopback_only() -> None:
    """Benchmarks send traffic to loopback only: refuse to run where other interfaces exist."""
    others = [name for _, name in socket.if_nameindex() if name != "lo"]
    if others:
        raise SystemExit(
            f"network interfaces besides lo ({', '.join(others)}): run inside scripts/loopback-only"
        )


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[str, web.Application]]:
    """The app from its factory, listening on a free loopback port."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await runner.cleanup()
