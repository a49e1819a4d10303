"""The opening-hours page for supervisors and admins: /staff/hours (see docs/operations.md, "Opening hours").

Server-rendered forms that work without script (each POST carries the session's CSRF token as a hidden
field, as the logout form does) and redirect back with a notice; bad input re-renders the page with
the error beside the form, keeping what was typed. Roles: supervisor (admin passes); anyone else logged
in gets a plain 403 page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from signlink.accounts import Role
from signlink.errors import BadRequest, Forbidden, NotFound
from signlink.hours import parse
from signlink.hours.calendar import ALWAYS_OPEN, ForceState, status
from signlink.hours.store import HoursStore, Line
from signlink.web import keys
from signlink.web.auth import ROLE_HOME, csrf_token, current_account, require_role
from signlink.web.render import render

log = logging.getLogger(__name__)
PATH = "/staff/hours"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
supervisors = require_role(Role.SUPERVISOR)


def _line(request: web.Request, values: Any) -> Line:
    settings = request.app[keys.SETTINGS]
    language = str(values.get("language") or settings.sign_languages[0])
    topic = str(values.get("topic") or "")
    if language not in settings.sign_languages:
        raise BadRequest("unknown sign language", code="bad_field")
    if topic and topic not in settings.topics:
        raise BadRequest("unknown topic", code="bad_field")
    return language, topic


def _store(request: web.Request) -> HoursStore:
    return request.app[keys.HOURS].store


async def _page(
    request: web.Request,
    line: Line,
    *,
    error: str = "",
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> web.Response:
    settings = request.app[keys.SETTINGS]
    stored = await _store(request).all()
    now = datetime.now(UTC)
    lines = []
    for key in sorted(stored):
        cal = stored[key].calendar
        lines.append(
            {
                "language": key[0],
                "topic": key[1],
                "status": status(cal, now),
                "zone": cal.time_zone,
                "by": stored[key].updated_by,
            }
        )
    current = stored.get(line)
    calendar = current.calendar if current else None
    zone = calendar.time_zone if calendar else settings.hours_default_time_zone
    weekly = parse.weekly_texts(calendar.weekly if calendar else ALWAYS_OPEN.weekly)
    if typed:
        weekly = [typed.get(f"day_{d}", weekly[i]) for i, d in enumerate(DAYS)]
        zone = typed.get("time_zone", zone)
    tz = (
        (calendar or ALWAYS_OPEN).tz
        if calendar
        else ZoneInfo(zone)
        if zone in available_timezones()
        else None
    )

    def local(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(tz or UTC).strftime("%Y-%m-%d %H:%M")

    now_status = status(calendar or ALWAYS_OPEN, now)
    return render(
        request,
        "staff_hours.html",
        status=status_code,
        account=current_account(request),
        csrf_token=csrf_token(request) or "",
        languages=settings.sign_languages,
        topics=settings.topics,
        line=line,
        configured=current is not None,
        lines=lines,
        calendar=calendar,
        zone=zone,
        weekly=list(zip(DAYS, weekly, strict=True)),
        overrides=list(calendar.overrides) if calendar else [],
        force=calendar.force if calendar else None,
        now_status=now_status,
        local=local,
        hhmm=parse.ranges_text,
        notice=request.query.get("saved", ""),
        error=error,
        typed=typed or {},
    )


def _back(line: Line, saved: str) -> web.Response:
    query = urlencode({"language": line[0], "topic": line[1], "saved": saved})
    return web.Response(status=303, headers={"Location": f"{PATH}?{query}#saved"})


def _guard(handler: Any) -> Any:
    guarded = supervisors(handler)

    async def page(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await guarded(request)
        except Forbidden:
            account = current_account(request)
            return render(
                request,
                "qa/error.html",
                status=403,
                heading="403",
                message="Supervisors and admins edit the opening hours." if account else "",
                home=ROLE_HOME[account.role] if account else "/login",
                home_label="OK",
            )
        response.headers["Cache-Control"] = "no-store"
        return response

    return page


@_guard
async def hours_page(request: web.Request) -> web.Response:
    return await _page(request, _line(request, request.query))


async def _form(request: web.Request) -> tuple[Line, dict[str, str]]:
    form = await request.post()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return _line(request, values), values


async def _saved(request: web.Request, line: Line, what: str) -> web.Response:
    request.app[keys.HOURS].forget()
    account = current_account(request)
    log.info(
        "hours of %s/%s changed by %s: %s",
        line[0],
        line[1] or "*",
        account.username if account else "?",
        what,
    )
    return _back(line, what)


@_guard
async def save_weekly(request: web.Request) -> web.Response:
    line, values = await _form(request)
    try:
        weekly = parse.weekly([values.get(f"day_{d}", "") for d in DAYS])
        account = current_account(request)
        await _store(request).save_weekly(
            line, values.get("time_zone", "").strip(), weekly, account.username if account else ""
        )
    except BadRequest as exc:
        return await _page(request, line, error=str(exc), typed=values, status_code=400)
    return await _saved(request, line, "weekly")


@_guard
async def add_override(request: web.Request) -> web.Response:
    line, values = await _form(request)
    try:
        override = parse.override(
            values.get("starts", ""),
            values.get("ends", ""),
            values.get("kind", ""),
            values.get("hours", ""),
            values.get("reason", ""),
        )
        account = current_account(request)
        await _store(request).add_override(
            line,
            override,
            account.username if account else "",
            request.app[keys.SETTINGS].hours_default_time_zone,
        )
    except BadRequest as exc:
        return await _page(request, line, error=str(exc), typed=values, status_code=400)
    return await _saved(request, line, "override")


@_guard
async def delete_override(request: web.Request) -> web.Response:
    line, values = await _form(request)
    try:
        await _store(request).delete_override(line, int(values.get("id", "")))
    except (ValueError, NotFound):
        return await _page(request, line, error="That override no longer exists.", status_code=404)
    return await _saved(request, line, "override_deleted")


@_guard
async def set_force(request: web.Request) -> web.Response:
    line, values = await _form(request)
    store = _store(request)
    settings = request.app[keys.SETTINGS]
    choice = values.get("state", "")
    account = current_account(request)
    try:
        state = None if choice == "none" else ForceState(choice)
    except ValueError:
        return await _page(request, line, error="Choose open, closed or back to the hours.", status_code=400)
    try:
        stored = (await store.all()).get(line)
        zone_name = stored.calendar.time_zone if stored else settings.hours_default_time_zone
        until = parse.moment(values["until"], zone_name) if values.get("until", "").strip() else None
        reason = parse.reason(values.get("reason", "")) if state else ""
        now = datetime.now(UTC)
        if until is not None and until <= now:
            raise BadRequest("until must be in the future", code="bad_field")
        await store.set_force(
            line,
            state,
            since=now,
            until=until,
            reason=reason,
            by=account.username if account else "",
            default_zone=zone_name,
        )
    except BadRequest as exc:
        return await _page(request, line, error=str(exc), typed=values, status_code=400)
    return await _saved(request, line, "force")


@_guard
async def reset(request: web.Request) -> web.Response:
    line, _ = await _form(request)
    await _store(request).delete(line)
    return await _saved(request, line, "reset")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PATH, hours_page)
    app.router.add_post(f"{PATH}/weekly", save_weekly)
    app.router.add_post(f"{PATH}/overrides", add_override)
    app.router.add_post(f"{PATH}/overrides/delete", delete_override)
    app.router.add_post(f"{PATH}/force", set_force)
    app.router.add_post(f"{PATH}/reset", reset)
