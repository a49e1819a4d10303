"""The one place where errors become HTTP responses.

API routes (under /api/) answer JSON `{"error": code, "message": text}`; pages get a short plain page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from signlink.errors import (
    BackendUnavailable,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Overloaded,
    SignlinkError,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_of(exc: SignlinkError) -> int:
    if isinstance(exc, BadRequest):
        return exc.status
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Overloaded):
        return exc.status
    if isinstance(exc, BackendUnavailable):
        return 503
    return 500


def error_response(exc: SignlinkError) -> web.Response:
    status = status_of(exc)
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after_s)
    body = {"error": exc.code, "message": str(exc)}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SignlinkError as exc:
        if status_of(exc) >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, exc)
        return error_response(exc)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Everything is served by the app itself: no CDN, no inline script.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self' ws: wss:",
    )
    return response
