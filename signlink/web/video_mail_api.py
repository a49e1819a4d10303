"""Video mail over HTTP (docs/protocol.md, "Video mail"): customers upload in chunks, staff watch and
handle, QA counts.

Customers: POST /api/video-mail (announce) -> PUT /api/video-mail/{id}?offset=N (chunks, resumable)
-> POST /api/video-mail/{id}/send. The upload token (Bearer) is the customer's only identity.
Staff: agents see the messages of their own sign languages; supervisors and admins every language;
nobody else (QA sees counts only). Customers never see anyone's message but their own upload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from signlink.accounts import Account, Role
from signlink.errors import BackendUnavailable, BadRequest, ConfigError, Forbidden
from signlink.signaling.feed import Periodic
from signlink.videomail import mailer
from signlink.videomail.checks import NewMail, base_type
from signlink.videomail.store import Mail, OffsetMismatch, VideoMailStore
from signlink.web import i18n, keys
from signlink.web.api_input import bearer_token
from signlink.web.auth import current_account, require_role

log = logging.getLogger(__name__)
VIDEO_MAIL: web.AppKey[VideoMailStore] = web.AppKey("video_mail")
MAX_JSON = 8 * 1024
RETENTION_INTERVAL_S = 3600.0
_NO_STORE = {"Cache-Control": "no-store"}
staff_only = require_role(Role.AGENT, Role.SUPERVISOR)
qa_only = require_role(Role.QA, Role.SUPERVISOR)


async def video_mail_ctx(app: web.Application) -> AsyncIterator[None]:
    """The store on the app's database (add after the records context made it), and its retention:
    every process deletes expired messages hourly (one DELETE; several processes doing it is harmless)."""
    settings = app[keys.SETTINGS]
    store = VideoMailStore(
        app[keys.DATABASE],
        max_bytes=settings.video_mail_max_bytes,
        chunk_bytes=settings.video_mail_chunk_bytes,
    )
    app[VIDEO_MAIL] = store

    async def purge() -> None:
        deleted = await store.purge(settings.video_mail_retention_days)
        if deleted:
            log.info("video mail retention: deleted %d messages", deleted)

    retention = Periodic("video-mail retention", RETENTION_INTERVAL_S, purge)
    retention.start()
    yield
    await retention.stop()


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_JSON + 1)
    if len(raw) > MAX_JSON:
        raise BadRequest("the request body is too large", status=413, code="too_large")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body must be JSON", code="malformed_json") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="malformed_json")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", code="bad_field")
    return value.strip() or None


def _token(request: web.Request) -> str:
    token = bearer_token(request)
    if token is None:
        raise Forbidden("send the upload token as Authorization: Bearer")
    return token


def _mail_json(mail: Mail) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    return {
        "id": mail.id,
        "language": mail.language,
        "topic": mail.topic,
        "device_model": mail.device_model,
        "device_serial": mail.device_serial,
        "locale": mail.locale,
        "has_email": mail.email is not None,
        "mime": mail.mime,
        "size": mail.size,
        "duration_s": mail.duration_s,
        "state": mail.state,
        "reason": mail.reason,
        "sent_at": iso(mail.sent_at),
        "handled_at": iso(mail.handled_at),
        "handled_by": mail.handled_by,
        "outcome": mail.outcome,
        "watched_by": list(mail.watched_by),
        "video_url": f"/api/staff/video-mail/{mail.id}/video",
    }


# -- customers ----------------------------------------------------------------------------------------


async def create(request: web.Request) -> web.Response:
    """POST /api/video-mail {language, topic, mime, size, duration_s?, device_model?, ..., email?}."""
    settings = request.app[keys.SETTINGS]
    body = await _json(request)
    language, topic = _text(body, "language"), _text(body, "topic")
    if language not in settings.sign_languages:
        raise BadRequest("language must be one of the served sign languages", code="bad_field")
    if topic not in settings.topics:
        raise BadRequest("topic must be one of the topics", code="bad_field")
    size, duration = body.get("size"), body.get("duration_s")
    if not isinstance(size, int) or isinstance(size, bool):
        raise BadRequest("size must be the video's length in bytes", code="bad_field")
    if duration is not None and (not isinstance(duration, int | float) or isinstance(duration, bool)):
        raise BadRequest("duration_s must be a number", code="bad_field")
    if duration is not None and duration > settings.video_mail_max_s + 5:  # a recorder stops a little late
        raise BadRequest(
            f"a video message is at most {settings.video_mail_max_s} seconds", status=413, code="too_long"
        )
    new = NewMail(
        language=language,
        topic=topic,
        mime=base_type(_text(body, "mime") or ""),
        size=size,
        duration_s=None if duration is None else float(duration),
        device_model=_text(body, "device_model"),
        device_serial=_text(body, "device_serial"),
        email=_text(body, "email"),
        locale=i18n.normalise(_text(body, "locale")) or i18n.negotiate(request),
        reason=_text(body, "reason") or "closed",
    )
    mail_id, token = await request.app[VIDEO_MAIL].create(new)
    out = {
        "id": mail_id,
        "token": token,
        "chunk_bytes": settings.video_mail_chunk_bytes,
        "upload_url": f"/api/video-mail/{mail_id}",
    }
    return web.json_response(out, status=201, headers=_NO_STORE)


async def upload(request: web.Request) -> web.Response:
    """PUT /api/video-mail/{id}?offset=N: one chunk (application/octet-stream)."""
    store = request.app[VIDEO_MAIL]
    token = _token(request)
    try:
        offset = int(request.query.get("offset", ""))
    except ValueError:
        raise BadRequest("offset must be the chunk's first byte", code="bad_field") from None
    raw = await request.content.read(store.chunk_bytes + 1)
    try:
        received = await store.append(request.match_info["id"], token, offset, raw)
    except OffsetMismatch as exc:
        return web.json_response(
            {"error": "offset", "message": str(exc), "received": exc.received}, status=409
        )
    return web.json_response({"received": received}, headers=_NO_STORE)


async def progress(request: web.Request) -> web.Response:
    """GET /api/video-mail/{id}: how much the server has (resume from `received`)."""
    received, size, state = await request.app[VIDEO_MAIL].progress(request.match_info["id"], _token(request))
    return web.json_response({"received": received, "size": size, "state": state}, headers=_NO_STORE)


async def send(request: web.Request) -> web.Response:
    """POST /api/video-mail/{id}/send: every byte is there; from now on it is "sent" (committed)."""
    mail = await request.app[VIDEO_MAIL].send(request.match_info["id"], _token(request))
    log.info("video mail %s sent (%s/%s, %d bytes)", mail.id, mail.language, mail.topic, mail.size)
    return web.json_response({"id": mail.id, "state": mail.state}, headers=_NO_STORE)


# -- staff --------------------------------------------------------------------------------------------


def _languages(account: Account) -> tuple[str, ...] | None:
    """The sign languages whose messages this account may see (None: all)."""
    return account.languages if account.role is Role.AGENT else None


async def _visible(request: web.Request) -> Mail:
    account = current_account(request)
    assert account is not None
    mail = await request.app[VIDEO_MAIL].get(request.match_info["id"])
    allowed = _languages(account)
    if allowed is not None and mail.language not in allowed:
        raise Forbidden("this video message is for agents of another sign language")
    return mail


@staff_only
async def inbox(request: web.Request) -> web.Response:
    """GET /api/staff/video-mail?handled=1: the messages waiting (or handled) for this account's languages."""
    account = current_account(request)
    assert account is not None
    handled = request.query.get("handled") in ("1", "true")
    mails = await request.app[VIDEO_MAIL].inbox(_languages(account), handled=handled)
    return web.json_response({"messages": [_mail_json(m) for m in mails]}, headers=_NO_STORE)


@staff_only
async def video(request: web.Request) -> web.StreamResponse:
    """GET /api/staff/video-mail/{id}/video: the recording, streamed from the database."""
    mail = await _visible(request)
    if mail.state == "uploading":
        raise BadRequest("this video message is not sent yet", status=409, code="not_sent")
    account = current_account(request)
    assert account is not None
    await request.app[VIDEO_MAIL].watched(mail.id, account.username)
    response = web.StreamResponse(
        headers={"Content-Type": mail.mime, "Content-Length": str(mail.size), "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    async for chunk in request.app[VIDEO_MAIL].video(mail.id):
        await response.write(chunk)
    await response.write_eof()
    return response


@staff_only
async def handled(request: web.Request) -> web.Response:
    """POST /api/staff/video-mail/{id}/handled {outcome}."""
    mail = await _visible(request)
    body = await _json(request)
    account = current_account(request)
    assert account is not None
    done = await request.app[VIDEO_MAIL].handle(mail.id, account.username, _text(body, "outcome") or "")
    log.info("video mail %s handled by %s: %s", mail.id, account.username, done.outcome)
    return web.json_response(_mail_json(done), headers=_NO_STORE)


def callback_link(request: web.Request, mail: Mail) -> str:
    """The start page with the customer's details filled in (their language, topic and device)."""
    settings = request.app[keys.SETTINGS]
    base = settings.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    query = {"language": mail.language, "topic": mail.topic, "lang": mail.locale}
    if mail.device_model:
        query["device_model"] = mail.device_model
    if mail.device_serial:
        query["device_serial"] = mail.device_serial
    return f"{base}/?{urlencode(query)}"


@staff_only
async def call_back(request: web.Request) -> web.Response:
    """POST /api/staff/video-mail/{id}/call-back: e-mail the customer a link back to a video call."""
    mail = await _visible(request)
    link = callback_link(request, mail)
    emailed = False
    problem = None
    if mail.email:
        language = i18n.translate(mail.locale, f"sl.{mail.language}")
        message = mailer.compose(
            request.app[keys.SETTINGS], mail.email, mail.locale, "callback", language=language, link=link
        )
        try:
            await mailer.send(request.app[keys.SETTINGS], message)
            emailed = True
        except (ConfigError, BackendUnavailable) as exc:  # the agent still gets the link to give
            problem = str(exc)
    else:
        problem = "the customer left no e-mail address"
    return web.json_response({"link": link, "emailed": emailed, "problem": problem}, headers=_NO_STORE)


@qa_only
async def qa_summary(request: web.Request) -> web.Response:
    """GET /api/qa/video-mail?days=7: counts, time to handle, outcomes."""
    try:
        days = int(request.query.get("days", "7"))
    except ValueError:
        raise BadRequest("days must be a whole number", code="bad_field") from None
    if not 1 <= days <= 400:
        raise BadRequest("days must be 1 to 400", code="bad_field")
    until = datetime.now(UTC)
    summary = await request.app[VIDEO_MAIL].summary(until - timedelta(days=days), until)
    return web.json_response({"days": days, **summary}, headers=_NO_STORE)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/video-mail", create)
    app.router.add_put("/api/video-mail/{id}", upload)
    app.router.add_get("/api/video-mail/{id}", progress)
    app.router.add_post("/api/video-mail/{id}/send", send)
    app.router.add_get("/api/staff/video-mail", inbox)
    app.router.add_get("/api/staff/video-mail/{id}/video", video)
    app.router.add_post("/api/staff/video-mail/{id}/handled", handled)
    app.router.add_post("/api/staff/video-mail/{id}/call-back", call_back)
    app.router.add_get("/api/qa/video-mail", qa_summary)
