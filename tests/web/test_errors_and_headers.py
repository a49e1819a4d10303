"""One error mapper and headers on every response: 404/405/500, pages and /api, static, CSV; /metrics
answers loopback only without a token."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web.app import create_app
from signlink.web.middleware import SECURITY_HEADERS, metrics_guard

App = TestClient[Any, Any]


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, settings: Settings) -> App:
    application = create_app(settings)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    application.router.add_get("/api/boom", boom)
    application.router.add_get("/boom", boom)
    client: App = await aiohttp_client(application)
    return client


def _secured(headers: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/no-such-page", 404, "text/html"),
        ("GET", "/api/no-such-thing", 404, "application/json"),
        ("PUT", "/api/tickets", 405, "application/json"),
        ("GET", "/api/boom", 500, "application/json"),
        ("GET", "/boom", 500, "text/html"),
        ("GET", "/healthz", 200, "application/json"),
        ("GET", "/static/no-such-file.css", 404, ""),  # aiohttp's static 404: its own body
    ],
)
async def test_every_response_carries_the_security_headers_and_errors_have_one_shape(
    app: App, method: str, path: str, status: int, kind: str
) -> None:
    response = await app.request(method, path)
    assert response.status == status
    assert not kind or response.content_type == kind
    _secured(response.headers)
    if kind == "application/json" and status >= 400:
        body = await response.json()
        assert set(body) == {"error", "message"}
        assert "a bug" not in body["message"]  # nothing of the bug reaches the client
    if status == 405:
        assert "Allow" in response.headers


async def test_metrics_answers_loopback_only_without_a_token(settings: Settings) -> None:
    # The guard itself with a request from elsewhere (the test client is always on loopback).
    request = make_mocked_request("GET", "/metrics", app=create_app(settings))
    request._transport_peername = ("192.0.2.7", 1234)

    async def handler(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    with pytest.raises(Exception, match="loopback only"):
        await metrics_guard(request, handler)
    public = make_mocked_request("GET", "/metrics", app=create_app(settings.replace(metrics_public=True)))
    assert (await metrics_guard(public, handler)).status == 200
