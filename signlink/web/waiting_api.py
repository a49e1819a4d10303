"""GET /api/waiting: the honest facts of a customer's wait (docs/protocol.md, "Waiting facts").

The waiting room's own pushes (signaling) carry the place and the mean estimate; this adds what is
true besides: are the agents busy or away, a range when the estimate is uncertain, and closing time.
The page polls it (static/js/wait-facts.js) with the ticket's bearer token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from signlink.errors import NotFound
from signlink.hours.facts import facts
from signlink.queue.estimator import PRIOR_ACCEPT_S
from signlink.web import keys
from signlink.web.api_input import bearer_token

_NO_STORE = {"Cache-Control": "no-store"}


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


async def waiting(request: web.Request) -> web.Response:
    token = bearer_token(request)
    if token is None:
        return web.json_response(
            {"error": "unauthorized", "message": "send the ticket token as Authorization: Bearer"}, status=401
        )
    queue = request.app[keys.QUEUE]
    ticket = await queue.ticket_by_token(token)
    try:
        pos = await queue.position(ticket.id)
    except NotFound:
        return web.json_response({"state": "gone"}, headers=_NO_STORE)
    snapshot = await queue.snapshot()
    line = next(
        (ln for ln in snapshot.lines if ln.language == ticket.language and ln.topic == ticket.topic), None
    )
    hours = request.app[keys.HOURS]
    now = datetime.fromtimestamp(hours.clock(), UTC)
    status, _ = await hours.status(ticket.language, ticket.topic, now)
    closes_in = None if status.closes_at is None else (status.closes_at - now).total_seconds()
    found = facts(
        estimate_s=pos.estimated_wait_s,
        ahead=pos.ahead_effective,
        serving_agents=pos.serving_agents,
        online_agents=line.online_agents if line else pos.serving_agents,
        closes_in_s=closes_in,
        is_open=status.open,
        notice_s=request.app[keys.SETTINGS].hours_closing_notice_s,
        accept_s=PRIOR_ACCEPT_S,
    )
    body = {
        "state": pos.state.value,
        "position": pos.position,
        "fact": found.fact.value,
        "estimate": None
        if found.estimate_s is None
        else {
            "mean_s": _round(found.estimate_s),
            "low_s": _round(found.low_s),
            "high_s": _round(found.high_s),
        },
        "closes_in_s": _round(found.closes_in_s),
        "closed": found.closed,
        "after_close": found.after_close,
    }
    return web.json_response(body, headers=_NO_STORE)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/waiting", waiting)
