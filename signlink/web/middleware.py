"""The one place where errors become HTTP responses, and the headers every response carries.

- Errors: under /api/ (and /metrics) JSON `{"error": code, "message": text}`; pages get a short error
  page (English and Chinese). SignlinkError maps by kind, aiohttp's own 404/405/413 keep their status,
  anything else is a bug: 500 with one traceback in the log and nothing of it in the response.
  A client's bad input (4xx) is one log line with the reason, never a traceback.
- Security headers: set on every response when it is prepared (`add_security_headers`, an
  on_response_prepare hook), so 404/405/500, static files, streams and the CSV export carry them too.
- /metrics: open only to loopback clients unless `metrics_token` is set (then the token decides) or
  `metrics_public` is on.
"""

from __future__ import annotations

import html
import ipaddress
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
from signlink.web import keys

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Everything is served by the app itself: no CDN, no inline script.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self' ws: wss:"
    ),
}
_PAGE_TITLES = {
    400: ("Bad request", "请求无效"),
    401: ("Please log in", "请先登录"),
    403: ("Not allowed", "无权访问"),
    404: ("Page not found", "页面不存在"),
    405: ("Not allowed here", "不支持此操作"),
    409: ("Conflict", "状态冲突"),
    413: ("Too large", "内容过大"),
    429: ("Too many requests: wait a moment", "请求过多，请稍候"),
    503: ("Temporarily unavailable: try again soon", "暂时无法使用，请稍后再试"),
}


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


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/metrics", "/ws", "/healthz"))


def error_response(
    exc: SignlinkError, request: web.Request | None = None, *, status: int | None = None
) -> web.Response:
    status = status or status_of(exc)
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after_s)
    if request is not None and not _wants_json(request):
        return _page(status, headers)
    body = {"error": exc.code, "message": str(exc)}
    return web.json_response(body, status=status, headers=headers)


def _page(status: int, headers: dict[str, str]) -> web.Response:
    en, zh = _PAGE_TITLES.get(status, ("Something went wrong", "出错了"))
    en, zh = html.escape(en), html.escape(zh)
    text = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{en}</title><main><h1>{en}</h1>'
        f'<p lang="zh-CN">{zh}</p><p><a href="/">Start page · 首页</a></p></main></html>'
    )
    return web.Response(status=status, text=text, content_type="text/html", headers=headers)


class _HttpError(SignlinkError):
    """aiohttp's own 4xx (no route, wrong method, body too large) in our shape."""

    def __init__(self, exc: web.HTTPException) -> None:
        super().__init__(exc.reason)
        self.code = exc.reason.lower().replace(" ", "_")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SignlinkError as exc:
        status = status_of(exc)
        if status >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, exc)
        else:
            log.info("%s %s refused (%s): %s", request.method, request.path, exc.code, exc)
        return error_response(exc, request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like
        log.info("%s %s: %s %s", request.method, request.path, exc.status, exc.reason)
        response = error_response(_HttpError(exc), request, status=exc.status)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("%s %s: unexpected error", request.method, request.path)
        error = SignlinkError("the server failed on this request")
        error.code = "internal"
        return error_response(error, request, status=500)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, whoever made it, carries these."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


@web.middleware
async def metrics_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """/metrics without a token: loopback only (a Prometheus on the same host, `make run`)."""
    if request.path == "/metrics":
        settings = request.app[keys.SETTINGS]
        if not settings.metrics_token and not settings.metrics_public and not _loopback(request):
            raise Forbidden("/metrics answers loopback only: set SIGNLINK_METRICS_TOKEN")
    return await handler(request)
