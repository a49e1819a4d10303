"""HTTP for the video check: WHIP ingest, the live events stream, teardown, verdict records.

See docs/protocol.md, "Video check (WHIP)", for every status and body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator

from aiohttp import web

from signlink import ice
from signlink.check import sdp
from signlink.check.keys import CheckKeys
from signlink.check.latest import LatestStates
from signlink.check.relay import CheckLost, CheckRelay
from signlink.check.sender import MAX_REPORT_BYTES
from signlink.check.service import CheckService
from signlink.errors import BadRequest, NotFound
from signlink.records.verdicts import VerdictStore
from signlink.web import auth, keys

log = logging.getLogger(__name__)

SDP_TYPE = "application/sdp"
FEEDBACK_INTERVAL_S = 0.25
SSE_RETRY_MS = 2000
CHECKS_PATH = "/api/checks"
_VERDICT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
# What a cross-origin WHIP client (an allowed origin) may send and read (RFC 9725, CORS).
CORS_METHODS = "POST, DELETE, GET, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization, If-Match"
CORS_EXPOSE = "Location, Link, Retry-After, Accept-Post"
CORS_MAX_AGE_S = 600


async def check_service_ctx(app: web.Application) -> AsyncIterator[None]:
    """The verdict store and the check service; every live check is ended on shutdown."""
    settings = app[keys.SETTINGS]
    space = app[keys.QUEUE].keys  # one keyspace for the deployment (on Cluster: one slot)
    store = VerdictStore(app[keys.REDIS], space, settings.verdict_ttl_s)
    latest = LatestStates(app[keys.REDIS], CheckKeys(space), settings.check_watch_ttl_s)
    service = CheckService.from_settings(settings, store, latest)
    app[keys.LATEST_CHECKS] = latest
    app[keys.VERDICTS] = store
    app[keys.CHECKS] = service
    relay = CheckRelay(app[keys.REDIS], CheckKeys(space), service)
    await relay.start()
    app[keys.CHECK_RELAY] = relay
    yield
    await service.close()
    await relay.close()


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


def client_of(request: web.Request) -> str:
    """The client's address; behind a trusted proxy, the last X-Forwarded-For hop it did not add."""
    trusted = request.app[keys.SETTINGS].trusted_proxies
    remote = request.remote or ""
    if remote in trusted:
        hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in trusted:
                return hop
    return auth.client_address(request)


def ice_links(servers: tuple[ice.IceServer, ...]) -> list[str]:
    """RFC 9725 section 4.6: one `Link: <url>; rel="ice-server"` per STUN/TURN URL, TURN with credentials."""
    links = []
    for server in servers:
        for url in server.urls:
            link = f'<{url}>; rel="ice-server"'
            if server.username is not None:
                link += f'; username="{server.username}"; credential="{server.credential}"'
                link += '; credential-type="password"'
            links.append(link)
    return links


async def create_check(request: web.Request) -> web.Response:
    """POST /api/checks: WHIP. An SDP offer in, 201 + Location + Link (ICE servers) + the SDP answer out."""
    settings = request.app[keys.SETTINGS]
    watch = request.query.get("watch")
    if watch is not None and not _VERDICT_ID.fullmatch(watch):
        raise BadRequest("watch must be the verdict id of the customer's check", code="bad_field")
    offer = sdp.parse_offer(await _read_offer(request, settings.check_max_offer_bytes))
    session, answer = await request.app[keys.CHECKS].start(offer, client=client_of(request), watch=watch)
    await request.app[keys.CHECK_RELAY].claim(session)  # any process can now reach it
    location = f"{CHECKS_PATH}/{session.id}"
    response = web.Response(
        status=201,
        text=answer,
        content_type=SDP_TYPE,
        headers={"Location": location, "Cache-Control": "no-store"},
    )
    for link in ice_links(ice.ice_servers(settings, f"check:{session.id}")):
        response.headers.add("Link", link)
    return response


async def options(request: web.Request) -> web.Response:
    """OPTIONS /api/checks[/<id>]: what the endpoint takes; the CORS preflight for allowed origins."""
    headers = {"Allow": "POST, OPTIONS" if request.path == CHECKS_PATH else "GET, DELETE, OPTIONS"}
    if request.path == CHECKS_PATH:
        headers["Accept-Post"] = SDP_TYPE
    if _allowed_origin(request) is not None:
        headers.update(
            {
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
            }
        )
    return web.Response(status=204, headers=headers)


def _allowed_origin(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    return origin if origin is not None and origin in request.app[keys.SETTINGS].allowed_origins else None


async def _cors(request: web.Request, response: web.StreamResponse) -> None:
    # Every response under /api/checks, errors included, so a cross-origin client can read why.
    if not (request.path == CHECKS_PATH or request.path.startswith(CHECKS_PATH + "/")):
        return
    origin = _allowed_origin(request)
    response.headers.add("Vary", "Origin")
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE


async def sender_report(request: web.Request) -> web.Response:
    """POST /api/checks/{id}/sender: what the page's sender knows (getStats, track.muted); 204."""
    if request.content_type != "application/json":
        raise BadRequest("a sender report is application/json", status=415, code="unsupported_media_type")
    raw = await request.content.read(MAX_REPORT_BYTES + 1)
    if len(raw) > MAX_REPORT_BYTES:
        raise BadRequest(f"a sender report is at most {MAX_REPORT_BYTES} bytes", status=413, code="too_large")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("the sender report is not JSON", code="bad_report") from exc
    check_id = request.match_info["check_id"]
    try:
        session = request.app[keys.CHECKS].get(check_id)
    except NotFound:  # held by another process
        await request.app[keys.CHECK_RELAY].sender_report(check_id, body)
    else:
        session.add_sender_report(body)
    return web.Response(status=204)


async def delete_check(request: web.Request) -> web.Response:
    """DELETE /api/checks/{id}: WHIP teardown (forwarded when another process holds the check)."""
    check_id = request.match_info["check_id"]
    try:
        await request.app[keys.CHECKS].end(check_id)
    except NotFound:
        await request.app[keys.CHECK_RELAY].delete(check_id)
    return web.Response(status=204)


async def _event_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a buffering proxy would hold the feedback back
        }
    )
    await response.prepare(request)
    return response


async def _forwarded_events(request: web.Request, check_id: str) -> web.StreamResponse:
    """The events of a check another process holds, relayed over Redis (no sticky routing)."""
    stream = request.app[keys.CHECK_RELAY].events(check_id)
    first = await anext(stream)  # NotFound (404) or CheckLost (503) before anything is sent
    response = await _event_stream(request)
    try:
        await response.write(f"retry: {SSE_RETRY_MS}\n\n".encode())
        await response.write(_event(*first))
        try:
            async for name, data in stream:
                await response.write(_event(name, data))
        except CheckLost as exc:  # the owner died mid-check: say so, the page offers a new check
            await response.write(_event("lost", {"error": exc.code, "message": str(exc)}))
        await response.write_eof()
    except ConnectionResetError:
        log.debug("check %s: forwarded events subscriber went away", check_id)
    finally:
        await stream.aclose()
    return response


def _event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def check_events(request: web.Request) -> web.StreamResponse:
    """GET /api/checks/{id}/events: server-sent events, `feedback` a few times a second, then `verdict`."""
    check_id = request.match_info["check_id"]
    try:
        session = request.app[keys.CHECKS].get(check_id)
    except NotFound:
        return await _forwarded_events(request, check_id)
    response = await _event_stream(request)
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
    app.on_response_prepare.append(_cors)
    app.router.add_route("OPTIONS", "/api/checks", options)
    app.router.add_route("OPTIONS", "/api/checks/{check_id}", options)
    app.router.add_post("/api/checks", create_check)
    app.router.add_delete("/api/checks/{check_id}", delete_check)
    app.router.add_post("/api/checks/{check_id}/sender", sender_report)
    app.router.add_get("/api/checks/{check_id}/events", check_events)
    app.router.add_get("/api/verdicts/{verdict_id}", get_verdict)
    app.router.add_post("/api/verdicts/{verdict_id}/continue", continue_despite_failure)
