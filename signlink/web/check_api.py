"""HTTP for the video check: WHIP ingest, the live events stream, teardown, verdict records.

See docs/protocol.md, "Video check (WHIP)", for every status and body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from signlink.errors import BadRequest
from signlink.records.verdicts import VerdictStore
from signlink.signaling import sdp
from signlink.signaling.check_service import CheckService
from signlink.web import keys, limits

log = logging.getLogger(__name__)

SDP_TYPE = "application/sdp"
FEEDBACK_INTERVAL_S = 0.25
SSE_RETRY_MS = 2000


async def check_service_ctx(app: web.Application) -> AsyncIterator[None]:
    """The verdict store and the check service; every live check is ended on shutdown."""
    settings = app[keys.SETTINGS]
    store = VerdictStore(app[keys.REDIS], settings.redis_prefix, settings.verdict_ttl_s)
    service = CheckService.from_settings(settings, store)
    app[keys.VERDICTS] = store
    app[keys.CHECKS] = service
    yield
    await service.close()


async def end_checks_on_shutdown(app: web.Application) -> None:
    # Runs before aiohttp waits for open requests: the events streams get their verdict and end.
    if keys.CHECKS in app:
        await app[keys.CHECKS].shutdown()


async def _read_offer(request: web.Request, limit: int) -> str:
    if request.content_type != SDP_TYPE:
        raise BadRequest(
            f"the offer must be sent as {SDP_TYPE}, not {request.content_type or 'nothing'}",
            status=415,
            code="unsupported_media_type",
        )
    too_large = BadRequest(f"the offer is larger than {limit} bytes", status=413, code="offer_too_large")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("the offer is not UTF-8 text", code="malformed_sdp") from exc


async def create_check(request: web.Request) -> web.Response:
    """POST /api/checks: WHIP. An SDP offer in, 201 + Location + the SDP answer out."""
    await limits.limit(request, "checks")  # per address and overall (web/limits.py)
    settings = request.app[keys.SETTINGS]
    offer = sdp.parse_offer(await _read_offer(request, settings.check_max_offer_bytes))
    session, answer = await request.app[keys.CHECKS].start(offer)
    location = f"/api/checks/{session.id}"
    return web.Response(
        status=201,
        text=answer,
        content_type=SDP_TYPE,
        headers={"Location": location, "Cache-Control": "no-store"},
    )


async def delete_check(request: web.Request) -> web.Response:
    """DELETE /api/checks/{id}: WHIP teardown."""
    await request.app[keys.CHECKS].end(request.match_info["check_id"])
    return web.Response(status=204)


def _event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def check_events(request: web.Request) -> web.StreamResponse:
    """GET /api/checks/{id}/events: server-sent events, `feedback` a few times a second, then `verdict`."""
    session = request.app[keys.CHECKS].get(request.match_info["check_id"])
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a buffering proxy would hold the feedback back
        }
    )
    await response.prepare(request)
    try:
        await response.write(f"retry: {SSE_RETRY_MS}\n\n".encode())
        while session.final is None:
            await response.write(_event("feedback", session.feedback()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.done.wait(), FEEDBACK_INTERVAL_S)
        await response.write(_event("verdict", session.final.to_event()))
        await response.write_eof()
    except ConnectionResetError:
        log.debug("check %s: events subscriber went away", session.id)
    return response


async def get_verdict(request: web.Request) -> web.Response:
    """GET /api/verdicts/{id}: the stored record."""
    record = await request.app[keys.VERDICTS].get(request.match_info["verdict_id"])
    return web.json_response(record.to_dict())


async def continue_despite_failure(request: web.Request) -> web.Response:
    """POST /api/verdicts/{id}/continue: the customer goes on although the check failed."""
    record = await request.app[keys.VERDICTS].mark_continued(request.match_info["verdict_id"])
    return web.json_response(record.to_dict())


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/checks", create_check)
    app.router.add_delete("/api/checks/{check_id}", delete_check)
    app.router.add_get("/api/checks/{check_id}/events", check_events)
    app.router.add_get("/api/verdicts/{verdict_id}", get_verdict)
    app.router.add_post("/api/verdicts/{verdict_id}/continue", continue_despite_failure)
