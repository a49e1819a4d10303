"""Repair over HTTP: the centre finder (anyone), the agent's case and booking API (staff), and the
customer's own case by its link token. docs/protocol.md ("Service cases") has every body and status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from signlink.accounts.models import Role
from signlink.cases import booking, finder, slots, view
from signlink.cases.calendar import booking_ics
from signlink.cases.cases import NewCase, open_case
from signlink.errors import BackendUnavailable, BadRequest, Forbidden
from signlink.web import keys
from signlink.web.api_input import json_object, text_field
from signlink.web.auth import current_account, require_role

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"C-[2-9A-HJKMNP-Z]{6}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_NO_STORE = {"Cache-Control": "no-store"}


async def slots_ctx(app: web.Application) -> AsyncIterator[None]:
    """Make the coming days' slots once at start, in the background (the days roll forward; a
    PostgreSQL that is away is only logged: the next start or `signlink centres import` makes them)."""

    async def make() -> None:
        try:
            made = await slots.ensure(app[keys.DATABASE])
            log.info("cases: %d new slots for the coming %d days", made, slots.DAYS_AHEAD)
        except BackendUnavailable as exc:
            log.warning("cases: slots not made at start: %s", exc)

    task = asyncio.create_task(make(), name="cases-slots")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/centres", centres)
    app.router.add_post("/api/cases", create_case)
    app.router.add_get("/api/cases/{number}", get_case)
    app.router.add_post("/api/cases/{number}/booking", book)
    app.router.add_delete("/api/cases/{number}/booking", cancel)
    app.router.add_get("/api/mycase/{token}", customer_case)
    app.router.add_get("/mycase/{token}/booking.ics", customer_ics)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers=_NO_STORE, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


def _number(request: web.Request) -> str:
    number = request.match_info["number"].upper()
    if not _NUMBER.fullmatch(number):
        raise BadRequest("not a case number", code="bad_field")
    return number


def _token(request: web.Request) -> str:
    token = request.match_info["token"]
    if not _TOKEN.fullmatch(token):
        raise BadRequest("not a case link", code="bad_field")
    return token


def _float(query: Any, name: str) -> float | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number", code="bad_field") from None


async def centres(request: web.Request) -> web.Response:
    """GET /api/centres?q=city-or-district | lat=&lon= [&kind=centre|dropoff] [&limit=10]"""
    query = request.query
    db = request.app[keys.DATABASE]
    kind = query.get("kind") or None
    try:
        limit = int(query.get("limit") or 10)
    except ValueError:
        raise BadRequest("limit must be a whole number", code="bad_field") from None
    lat, lon = _float(query, "lat"), _float(query, "lon")
    if lat is not None and lon is not None:
        found = await finder.nearest(db, lat, lon, kind=kind, limit=limit)
    elif query.get("q"):
        found = await finder.by_place(db, query["q"], kind=kind, limit=limit)
    else:
        raise BadRequest("give q (a city or district) or lat and lon", code="bad_field")
    return _json({"results": [asdict(f) for f in found]})


@require_role(Role.AGENT, Role.SUPERVISOR)
async def create_case(request: web.Request) -> web.Response:
    """POST /api/cases: open a case from a ticket; device, serial, topic and check come from the ticket."""
    body = await json_object(request)
    account = current_account(request)
    assert account is not None  # require_role
    ticket = await request.app[keys.QUEUE].get_ticket(text_field(body, "ticket_id", required=True) or "")
    if account.role is Role.AGENT and ticket.agent_id != account.username:
        raise Forbidden("only the agent who took this ticket may open its case")
    new = NewCase(
        ticket_id=ticket.id,
        category=text_field(body, "category", required=True) or "",
        outcome=text_field(body, "outcome", required=True) or "",
        agent=account.username,
        device_model=ticket.device_model or "",
        serial=ticket.device_serial or "",
        topic=ticket.topic,
        verdict_id=ticket.verdict_id or "",
        description=text_field(body, "description") or "",
        email=text_field(body, "email") or "",
    )
    db = request.app[keys.DATABASE]
    opened = await open_case(db, new, request.app[keys.SETTINGS].case_categories)
    return _json(_staff_view(await view.load(db, number=opened.number)), status=201)


@require_role(Role.AGENT, Role.SUPERVISOR, Role.QA)
async def get_case(request: web.Request) -> web.Response:
    return _json(_staff_view(await view.load(request.app[keys.DATABASE], number=_number(request))))


def _when(body: dict[str, Any], name: str) -> datetime:
    raw = text_field(body, name, required=True) or ""
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 time", code="bad_field") from None


@require_role(Role.AGENT, Role.SUPERVISOR)
async def book(request: web.Request) -> web.Response:
    """POST /api/cases/{number}/booking: {"slot_id": N} or {"kind": "mail_in", pickup_from, ...}."""
    db = request.app[keys.DATABASE]
    case = await view.load(db, number=_number(request))
    body = await json_object(request)
    if body.get("kind") == "mail_in":
        mail = booking.MailIn(
            _when(body, "pickup_from"),
            _when(body, "pickup_until"),
            text_field(body, "pickup_address", required=True) or "",
            text_field(body, "shipping_ref") or "",
        )
        await booking.book_mail_in(db, case.id, mail, datetime.now(UTC))
    else:
        slot_id = body.get("slot_id")
        if not isinstance(slot_id, int) or isinstance(slot_id, bool) or slot_id < 1:
            raise BadRequest("slot_id must be a slot's id", code="bad_field")
        await booking.book_slot(db, case.id, slot_id)
    return _json(_staff_view(await view.load(db, number=case.number)))


@require_role(Role.AGENT, Role.SUPERVISOR)
async def cancel(request: web.Request) -> web.Response:
    db = request.app[keys.DATABASE]
    case = await view.load(db, number=_number(request))
    await booking.cancel(db, case.id)
    return _json(_staff_view(await view.load(db, number=case.number)))


async def customer_case(request: web.Request) -> web.Response:
    """GET /api/mycase/{token}: the customer's own case (the link is the credential)."""
    case = await view.load(request.app[keys.DATABASE], token=_token(request))
    return _json(_customer_view(case))


async def customer_ics(request: web.Request) -> web.Response:
    token = _token(request)
    case = await view.load(request.app[keys.DATABASE], token=token)
    if case.booking is None:
        raise BadRequest("the case has no booking", status=404, code="no_booking")
    url = f"{request.scheme}://{request.host}/mycase/{token}"
    body = booking_ics(case, title="Repair", case_url=url)
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{case.number}.ics"'},
    )


def _staff_view(case: view.CaseView) -> dict[str, Any]:
    out = asdict(case)
    out.pop("id")
    out["case_url"] = f"/mycase/{out.pop('token')}"
    return out


def _customer_view(case: view.CaseView) -> dict[str, Any]:
    out = _staff_view(case)
    for private in ("agent", "ticket_id", "verdict_id", "repeat_of_number"):
        out.pop(private)
    return out
