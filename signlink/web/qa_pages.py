"""The QA dashboard's pages: /qa (overview), /qa/sessions (+ one ticket), /qa/live.

Pages are rendered on the server from the same figures the JSON API gives (docs/protocol.md, "QA
API"), so they read without script; scripts only draw the charts (static/js/qa-charts.js) and keep
the live view fresh. Roles: qa, supervisor (admin passes). Anyone else logged in gets a plain HTML
403 page, not the API's JSON; a visitor who is not logged in goes to the login page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from signlink.accounts import Account, Role
from signlink.errors import BadRequest, Forbidden, NotFound
from signlink.queue.models import AgentStatus
from signlink.web import i18n, keys, qa_charts, qa_data, qa_metrics
from signlink.web.auth import ROLE_HOME, csrf_token, current_account, require_role
from signlink.web.qa_format import Fmt
from signlink.web.render import render

log = logging.getLogger(__name__)

# The filters a page passes on to the API, in the order links show them.
FILTERS = ("from", "to", "language", "topic", "agent", "outcome", "flagged", "check")
OVERVIEW_FILTERS = ("from", "to", "language", "topic")
OUTCOMES = ("answered", "abandoned", "unserved", "transferred")
CHECKS = ("passed", "failed", "continued", "none")
LIVE_STATUSES = (
    AgentStatus.AVAILABLE,
    AgentStatus.ON_OFFER,
    AgentStatus.IN_CALL,
    AgentStatus.WRAP_UP,
    AgentStatus.AWAY,
)
LIVE_REFRESH_MS = 5000
PAGE_SIZE = 50
MAX_FILTER_LENGTH = 64

Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def qa_page(handler: Page) -> Page:
    """Only for qa / supervisor / admin; any other logged-in role gets an HTML 403 page."""
    guarded = require_role(Role.QA, Role.SUPERVISOR)(handler)

    @functools.wraps(handler)
    async def page(request: web.Request) -> web.StreamResponse:
        try:
            response = await guarded(request)
        except Forbidden:
            account = current_account(request)
            log.info("QA page %s refused to %s", request.path, account.username if account else "?")
            return _error_page(request, 403, "qa.forbidden")
        except NotFound:
            return _error_page(request, 404, "qa.not_found")
        # Staff pages with a CSRF token and customer records: never from a cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    return page


@qa_page
async def overview(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    values = _filters(request, OVERVIEW_FILTERS)
    error = ""
    try:
        summary = await qa_data.summary(request, values)
        series = await qa_data.timeseries(request, values)
        agents = (await qa_data.agents(request, values))["agents"]
    except BadRequest as exc:
        error, values = _filter_error(fmt, exc), {}
        summary = await qa_data.summary(request, values)
        series = await qa_data.timeseries(request, values)
        agents = (await qa_data.agents(request, values))["agents"]
    levels = summary.get("service_level") or []
    charts = qa_charts.overview_charts(fmt, series, levels[0]["threshold_s"] if levels else None)
    accounts = await _accounts(request)
    names = _names(accounts)
    for row in agents:
        row["name"] = names.get(row["agent_id"], row.get("name") or row["agent_id"])
        row["query"] = urlencode({**_period_only(values), "agent": row["agent_id"]})
    agents.sort(key=lambda row: (-int(row.get("handled") or 0), str(row["name"]).casefold()))
    return _render(
        request,
        "qa/overview.html",
        "/qa",
        status=400 if error else 200,
        fmt=fmt,
        s=summary,
        values=values,
        error=error,
        choices=_choices(request, accounts),
        presets=_presets(fmt, "/qa", values),
        charts=charts,
        chart_data=qa_charts.chart_data(charts),
        agents=agents,
        flagged_query=urlencode({**values, "flagged": "1"}),
    )


@qa_page
async def sessions(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    values = _filters(request, FILTERS)
    cursor = request.query.get("cursor", "")[:200]
    error = ""
    try:
        listing = await qa_data.sessions(request, values, limit=PAGE_SIZE, cursor=cursor)
    except BadRequest as exc:
        error, values, cursor = _filter_error(fmt, exc), {}, ""
        listing = await qa_data.sessions(request, values, limit=PAGE_SIZE, cursor="")
    accounts = await _accounts(request)
    names = _names(accounts)
    rows = listing["sessions"]
    for row in rows:
        agent_id = row.get("agent_id")
        row["agent_name"] = names.get(agent_id, agent_id) if agent_id else None
    next_cursor = listing.get("next_cursor")
    next_url = f"/qa/sessions?{urlencode({**values, 'cursor': next_cursor})}" if next_cursor else ""
    return _render(
        request,
        "qa/sessions.html",
        "/qa/sessions",
        status=400 if error else 200,
        fmt=fmt,
        values=values,
        error=error,
        period=listing.get("period") or _period_of(values),
        choices=_choices(request, accounts),
        presets=_presets(fmt, "/qa/sessions", values),
        rows=rows,
        next_url=next_url,
        csv_query=urlencode(values),
    )


@qa_page
async def session(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    record = await qa_data.session(request, request.match_info["ticket_id"])
    accounts = await _accounts(request)
    names = _names(accounts)
    ticket = record["ticket"]
    quality = qa_charts.marked_quality(fmt, record.get("quality") or {})
    charts = qa_charts.quality_charts(fmt, quality["samples"])
    offers = [
        {**o, "agent_name": names.get(o.get("agent_id"), o.get("agent_id"))}
        for o in record.get("offers") or []
    ]
    check = record.get("check")
    return _render(
        request,
        "qa/session.html",
        "/qa/sessions",
        fmt=fmt,
        ticket=ticket,
        agent_name=names.get(ticket.get("agent_id"), ticket.get("agent_id"))
        if ticket.get("agent_id")
        else None,
        timeline=qa_charts.timeline(fmt, record.get("timeline") or [], names),
        check=check,
        check_criteria=qa_metrics.criteria_rows(fmt, check),
        check_metrics=qa_metrics.metric_rows(fmt, check),
        offers=offers,
        calls=[
            {**call, "agent_name": names.get(call.get("agent_id"), call.get("agent_id"))}
            for call in record.get("sessions") or ([record["session"]] if record.get("session") else [])
        ],
        quality=quality,
        charts=charts,
        chart_data=qa_charts.chart_data(charts),
        back_url=_back_url(request),
    )


@qa_page
async def live(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    snapshot = await qa_data.live(request)
    active = active_lines(snapshot["lines"])
    return _render(
        request,
        "qa/live.html",
        "/qa/live",
        fmt=fmt,
        live=snapshot,
        live_json=snapshot,
        active_lines=active,
        quiet_count=len(snapshot["lines"]) - len(active),
        statuses=[s.value for s in LIVE_STATUSES],
        refresh_ms=LIVE_REFRESH_MS,
    )


def active_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Queues with someone waiting or an agent online, longest wait first (static/js/qa-live.js too)."""
    active = [line for line in lines if line["waiting"] or line["online_agents"]]
    return sorted(active, key=lambda line: (-line["waiting"], -line["longest_wait_s"], line["language"]))


# helpers


def _fmt(request: web.Request) -> Fmt:
    return Fmt(i18n.negotiate(request))


def _render(
    request: web.Request, template: str, section: str, *, status: int = 200, **context: Any
) -> web.Response:
    account = current_account(request)
    return render(
        request,
        template,
        status=status,
        account=account,
        csrf_token=csrf_token(request) or "",
        section=section,
        **context,
    )


def _error_page(request: web.Request, status: int, key: str) -> web.Response:
    fmt = _fmt(request)
    account = current_account(request)
    home = ROLE_HOME[account.role] if account else "/"
    return render(
        request,
        "qa/error.html",
        status=status,
        heading=fmt.t(f"{key}.title"),
        message=fmt.t(f"{key}.text"),
        home=home if status == 403 else "/qa",
        home_label=fmt.t(f"{key}.home"),
    )


def _filters(request: web.Request, names: tuple[str, ...]) -> dict[str, str]:
    """The page's filters that are set, trimmed; the API validates them."""
    values = {}
    for name in names:
        value = request.query.get(name, "").strip()[:MAX_FILTER_LENGTH]
        if value:
            values[name] = value
    return values


def _filter_error(fmt: Fmt, exc: BadRequest) -> str:
    log.info("QA filters refused: %s", exc)
    return fmt.t("qa.filters.error", detail=str(exc))


def _period_only(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k in ("from", "to")}


def _period_of(values: Mapping[str, str]) -> dict[str, str]:
    return {"from": values.get("from", ""), "to": values.get("to", "")}


def _presets(fmt: Fmt, path: str, values: Mapping[str, str]) -> list[tuple[str, str, bool]]:
    """Quick periods (today, 7 and 30 days), keeping the other filters."""
    today = datetime.now(UTC).date()
    rest = {k: v for k, v in values.items() if k not in ("from", "to")}
    presets = []
    for key, days in (("qa.filters.today", 0), ("qa.filters.days7", 6), ("qa.filters.days30", 29)):
        start = (today - timedelta(days=days)).isoformat()
        query = {"from": start, "to": today.isoformat(), **rest}
        current = values.get("from") == start and values.get("to") == today.isoformat()
        presets.append((fmt.t(key), f"{path}?{urlencode(query)}", current))
    return presets


def _back_url(request: web.Request) -> str:
    """Back to the list the QA person came from, if that was our list (else the plain list)."""
    referer = request.headers.get("Referer", "")
    marker = f"//{request.host}/qa/sessions?"
    if marker in referer:
        return "/qa/sessions?" + referer.split(marker, 1)[1]
    return "/qa/sessions"


async def _accounts(request: web.Request) -> list[Account]:
    """Every staff account, disabled ones too (old records name them), read once per page."""
    return await request.app[keys.ACCOUNTS].list_accounts()


def _names(accounts: list[Account]) -> dict[str, str]:
    """Agent id (username) -> display name."""
    return {a.username: a.display_name for a in accounts}


def _choices(request: web.Request, accounts: list[Account]) -> dict[str, Any]:
    settings = request.app[keys.SETTINGS]
    agents = sorted(
        ({"id": a.username, "name": a.display_name} for a in accounts if a.role is Role.AGENT),
        key=lambda a: a["name"].casefold(),
    )
    return {
        "languages": settings.sign_languages,
        "topics": settings.topics,
        "agents": agents,
        "outcomes": OUTCOMES,
        "checks": CHECKS,
    }


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/qa", overview)
    app.router.add_get("/qa/sessions", sessions)
    app.router.add_get("/qa/live", live)
    app.router.add_get("/qa/sessions/{ticket_id}", session)
