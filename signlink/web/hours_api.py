"""Opening hours over HTTP for customers: GET /api/hours, and the refusal a closed line gives a join.

docs/protocol.md ("Opening hours") has the bodies. Times go out as epoch seconds and ISO 8601 (UTC);
the page shows them in the customer's own time zone and language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiohttp import web

from signlink.errors import BadRequest
from signlink.hours import parse
from signlink.hours.calendar import Calendar, Status
from signlink.hours.service import Hours
from signlink.hours.store import HoursStore
from signlink.web import keys

# Classes a closed line still takes (docs/protocol.md, "Emergency when closed"). Customers cannot
# choose "emergency" (tickets_api.CUSTOMER_CLASSES); staff-made emergency tickets always get in.
ADMITTED_WHEN_CLOSED = frozenset({"emergency"})
_NO_STORE = {"Cache-Control": "no-store"}


async def hours_ctx(app: web.Application) -> AsyncIterator[None]:
    """The hours service on the app's database (add after the records context made it)."""
    settings = app[keys.SETTINGS]
    app[keys.HOURS] = Hours(HoursStore(app[keys.DATABASE]), ttl_s=settings.hours_cache_s)
    yield


def _when(moment: datetime | None) -> dict[str, Any] | None:
    if moment is None:
        return None
    return {"at": moment.timestamp(), "iso": moment.isoformat().replace("+00:00", "Z")}


def describe(found: Status, calendar: Calendar, now: datetime) -> dict[str, Any]:
    """The public facts of a line's hours now."""
    closes_in = None if found.closes_at is None else max(0, round((found.closes_at - now).total_seconds()))
    return {
        "open": found.open,
        "closes_at": _when(found.closes_at),
        "closes_in_s": closes_in,
        "next_opening": _when(found.next_opening),
        "reason": found.reason,
        "forced": found.forced,
        "time_zone": calendar.time_zone,
        "weekly": parse.weekly_texts(calendar.weekly),
    }


async def closed_refusal(
    app: web.Application, language: str, topic: str, priority_class: str
) -> web.Response | None:
    """The 422 `closed` answer for a join to a closed line; None when the join may go ahead."""
    if priority_class in ADMITTED_WHEN_CLOSED:
        return None
    hours = app[keys.HOURS]
    now = datetime.fromtimestamp(hours.clock()).astimezone()
    found, calendar = await hours.status(language, topic, now)
    if found.open:
        return None
    body = {
        "error": "closed",
        "message": "this sign language and topic are closed now",
        "hours": describe(found, calendar, now),
        "can_now": ["video_mail", "come_back"],
    }
    return web.json_response(body, status=422, headers=_NO_STORE)


async def line_hours(request: web.Request) -> web.Response:
    """GET /api/hours?language=CSL&topic=phone: open now, closes at, next opening."""
    settings = request.app[keys.SETTINGS]
    language = request.query.get("language", "")
    topic = request.query.get("topic", "")
    if language not in settings.sign_languages:
        raise BadRequest("language must be one of the served sign languages", code="bad_field")
    if topic and topic not in settings.topics:
        raise BadRequest("topic is not one of the topics", code="bad_field")
    hours = request.app[keys.HOURS]
    now = datetime.fromtimestamp(hours.clock()).astimezone()
    found, calendar = await hours.status(language, topic, now)
    body = {"language": language, "topic": topic, **describe(found, calendar, now)}
    return web.json_response(body, headers=_NO_STORE)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/hours", line_hours)
