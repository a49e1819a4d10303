"""Every route of the app, in one table."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from signlink.web import (
    agent_pages,
    auth,
    cases_api,
    check_api,
    customer_pages,
    health,
    hours_api,
    hours_pages,
    i18n,
    mail_pages,
    metrics,
    pages,
    qa_api,
    qa_pages,
    tickets_api,
    video_mail_api,
    waiting_api,
    ws,
)

STATIC_DIR = Path(__file__).parent / "static"


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/", pages.index)
    app.router.add_get("/check", pages.check)
    app.router.add_get("/help", pages.help_page)
    app.router.add_get("/i18n/{locale}.json", i18n.serve_catalog)
    app.router.add_get("/login", auth.login_page)
    app.router.add_post("/login", auth.login)
    app.router.add_post("/logout", auth.logout)
    app.router.add_get("/agent", agent_pages.console)
    check_api.setup_routes(app)
    tickets_api.setup_routes(app)
    app.router.add_get("/ws", ws.websocket)
    customer_pages.setup_routes(app)
    qa_api.setup_routes(app)
    cases_api.setup_routes(app)
    app.router.add_get("/metrics", metrics.metrics)
    qa_pages.setup_routes(app)
    hours_api.setup_routes(app)
    hours_pages.setup_routes(app)
    waiting_api.setup_routes(app)
    video_mail_api.setup_routes(app)
    mail_pages.setup_routes(app)
    app.router.add_static("/static/", STATIC_DIR, name="static")
