"""The customer's video-message page (/mail): record up to the limit in the browser, review, send.

Reached from the start page when a line is closed (and from the waiting room when the wait is long).
The page only renders; the recording goes through the chunked video-mail API (video_mail_api.py).
Query values reach the page only if they are known codes or short text, as on the start page.
"""

from __future__ import annotations

from aiohttp import web

from signlink.videomail.checks import FIELD_MAX, REASONS
from signlink.web import customer_pages, i18n, keys
from signlink.web.render import render


def _short(value: str | None) -> str:
    return value.strip()[:FIELD_MAX] if value else ""


async def mail_page(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    locale = i18n.negotiate(request)
    query = request.query
    language = query.get("language", "")
    topic = query.get("topic", "")
    reason = query.get("reason", "")
    return render(
        request,
        "mail.html",
        languages=[(code, customer_pages.label(locale, "sl", code)) for code in settings.sign_languages],
        topics=[(code, customer_pages.label(locale, "topic", code)) for code in settings.topics],
        language=language if language in settings.sign_languages else "",
        topic=topic if topic in settings.topics else "",
        reason=reason if reason in REASONS else "closed",
        device_model=_short(query.get("device_model")),
        device_serial=_short(query.get("device_serial")),
        max_s=settings.video_mail_max_s,
        field_max=FIELD_MAX,
        catalogs={code: i18n.catalog(code) for code in i18n.LOCALES},
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/mail", mail_page)
