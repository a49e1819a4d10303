"""The customer's HTTP API: what is served now, joining and leaving the queue, the rating.

Customers are anonymous: a ticket's bearer token (unguessable, kept by the page) is their identity,
here and in the WebSocket hello. docs/protocol.md ("Customer API") has every status and body.
"""

from __future__ import annotations

import hashlib
import logging
import re

from aiohttp import web
from redis.exceptions import RedisError

from signlink import ids
from signlink.check.outcome import NO_VERDICT
from signlink.errors import BackendUnavailable, BadRequest, Conflict, NotFound
from signlink.queue.errors import AlreadyQueued, NotServed
from signlink.queue.models import JoinRequest, TicketState
from signlink.web import hours_api, keys, limits
from signlink.web.api_input import bearer_token, json_object, text_field

CUSTOMER_CLASSES = ("normal", "callback")  # "emergency" is set by staff, never chosen by a customer
COMMENT_MAX_CHARS = 500
WS_URL = "/ws"
JOIN_KEY_TTL_S = 600  # a page retries a join for well under a minute
_TOKEN = ids.TOKEN
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines are fine in a comment
_NO_STORE = {"Cache-Control": "no-store"}
log = logging.getLogger(__name__)


async def service_info(request: web.Request) -> web.Response:
    """GET /api/service: the sign languages an agent is online for now (and their topics)."""
    settings = request.app[keys.SETTINGS]
    snapshot = await request.app[keys.QUEUE].snapshot()
    served: dict[str, list[str]] = {lang: [] for lang in settings.sign_languages}
    for line in snapshot.lines:
        if line.online_agents > 0 and line.language in served:
            served[line.language].append(line.topic)
    languages = [
        {"code": lang, "served_now": bool(topics), "topics": topics} for lang, topics in served.items()
    ]
    return web.json_response(
        {"languages": languages, "topics": list(settings.topics), "classes": list(CUSTOMER_CLASSES)},
        headers=_NO_STORE,
    )


async def create_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets: join the queue. A page that still has a token sends it as a Bearer header."""
    await limits.limit(request, "tickets")
    body = await json_object(request)
    language = text_field(body, "language", required=True)
    topic = text_field(body, "topic", required=True)
    priority = text_field(body, "priority_class") or "normal"
    if priority not in CUSTOMER_CLASSES:
        raise BadRequest(f"priority_class must be one of {', '.join(CUSTOMER_CLASSES)}", code="bad_field")
    verdict_id = text_field(body, "verdict_id")
    if verdict_id == NO_VERDICT:  # what the check page passes on when the check was skipped
        verdict_id = None
    if verdict_id is not None:
        if not ids.ID.fullmatch(verdict_id):
            raise BadRequest("verdict_id has the wrong format", code="bad_field")
        try:
            await request.app[keys.VERDICTS].get(verdict_id)
        except NotFound:
            raise BadRequest("verdict_id is unknown or expired", code="bad_field") from None
    token, replayed = await _token_for_join(request)
    assert language is not None and topic is not None
    refused = await hours_api.closed_refusal(request.app, language, topic, priority)
    if refused is not None:  # a closed line: the body says when it opens and what to do now
        return refused
    join = JoinRequest(
        customer_token=token,
        language=language,
        topic=topic,
        priority_class=priority,
        verdict_id=verdict_id,
        device_model=text_field(body, "device_model"),
        device_serial=text_field(body, "device_serial"),
    )
    queue = request.app[keys.QUEUE]
    try:
        placed = await queue.join(join)
    except NotServed as exc:
        body_out = {
            "error": "not_served",
            "message": str(exc),
            "served_languages": list(exc.languages),
            "served_topics": list(exc.topics),
        }
        return web.json_response(body_out, status=422, headers=_NO_STORE)
    except AlreadyQueued as exc:
        if replayed:  # an earlier try with this Idempotency-Key made the ticket: its answer again
            return await _joined(request, exc.ticket_id, token, status=200)
        body_out = {"error": "already_queued", "message": str(exc), "ticket_id": exc.ticket_id}
        return web.json_response(body_out, status=409, headers=_NO_STORE)
    return await _joined(request, placed.ticket.id, token, status=201)


async def _joined(request: web.Request, ticket_id: str, token: str, *, status: int) -> web.Response:
    calls = request.app[keys.CALLS]
    position, estimate = await calls.position_of(ticket_id)
    out = {
        "ticket_id": ticket_id,
        "token": token,
        "position": position,
        "estimated_wait_s": None if estimate is None else round(estimate),
        "ws_url": WS_URL,
    }
    return web.json_response(out, status=status, headers=_NO_STORE)


async def _token_for_join(request: web.Request) -> tuple[str, bool]:
    """(token, replayed). Tokens are made here only. A page's Bearer token is kept only if this server
    made it (it names a ticket, so the queue can tell a resume from a second join); any other is ignored.

    A join that sends an Idempotency-Key gets the same token on every try with that key (for 10 min):
    a try whose answer was lost and the next try are one ticket, and the retry is told its token.
    """
    sent = bearer_token(request)
    if sent is not None:
        try:
            await request.app[keys.QUEUE].ticket_by_token(sent)
        except NotFound:
            log.info("a join sent a token this server never made: a new one is minted")
        else:
            return sent, False
    minted = ids.mint_token()
    idempotency = request.headers.get("Idempotency-Key", "").strip()
    if not idempotency:
        return minted, False
    if not _TOKEN.fullmatch(idempotency):
        raise BadRequest("Idempotency-Key must be 43 URL-safe base64 characters", code="bad_field")
    queue = request.app[keys.QUEUE]
    key = queue.keys.key("join-key", hashlib.sha256(idempotency.encode()).hexdigest())
    try:
        if await queue.redis.set(key, minted, nx=True, ex=JOIN_KEY_TTL_S):
            return minted, False
        earlier = await queue.redis.get(key)
    except (RedisError, OSError) as exc:
        raise BackendUnavailable(f"cannot read the join's Idempotency-Key: {exc}") from exc
    if earlier is None:  # expired between the two commands: this try is the first
        return minted, False
    return (earlier.decode() if isinstance(earlier, bytes) else str(earlier)), True


async def leave_ticket(request: web.Request) -> web.Response:
    """DELETE /api/tickets/current (Authorization: Bearer <token>): leave the queue."""
    token = bearer_token(request)
    if token is None:
        return web.json_response(
            {"error": "unauthorized", "message": "send the ticket token as Authorization: Bearer"}, status=401
        )
    queue = request.app[keys.QUEUE]
    ticket = await queue.ticket_by_token(token)
    await queue.leave(ticket.id)
    return web.Response(status=204)


async def create_rating(request: web.Request) -> web.Response:
    """POST /api/ratings {token, score 1-5, comment?}: after the call, stored with its session."""
    await limits.limit(request, "ratings")
    body = await json_object(request)
    token = text_field(body, "token", required=True)
    score = body.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise BadRequest("score must be a whole number from 1 to 5", code="bad_field")
    comment = (text_field(body, "comment") or "").strip()
    if _CONTROL.search(comment):
        raise BadRequest("comment contains control characters", code="bad_field")
    if len(comment) > COMMENT_MAX_CHARS:
        raise BadRequest(
            f"comment is longer than {COMMENT_MAX_CHARS} characters", status=413, code="too_long"
        )
    if token is None or not _TOKEN.fullmatch(token):
        raise BadRequest("token has the wrong format", code="bad_field")
    ticket = await request.app[keys.QUEUE].ticket_by_token(token)
    if ticket.state is not TicketState.ENDED or not ticket.session_id:
        raise Conflict("there is no finished call to rate")
    await request.app[keys.SESSIONS].rate(ticket.session_id, score=score, comment=comment)
    return web.json_response({"session_id": ticket.session_id}, status=201)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/service", service_info)
    app.router.add_post("/api/tickets", create_ticket)
    app.router.add_delete("/api/tickets/current", leave_ticket)
    app.router.add_post("/api/ratings", create_rating)
