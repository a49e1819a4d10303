"""The customer's journey: the start page, the waiting room with the call, and the rating.

start (/) -> the camera check (/check?next=/wait?...) -> /wait (waiting room, then the call, one page
so the socket and the camera stay up) -> /rate. The pages only render; everything live goes through
the customer API and the WebSocket (docs/protocol.md). Query values reach a page only if they are
known codes, so nothing from the address is echoed back unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from signlink.web import i18n, keys
from signlink.web.render import render

# Topics with their own icon in static/img/call-icons.svg; any other topic gets "topic-other".
TOPIC_ICONS = frozenset({"phone", "tablet", "wearable", "pc", "smart_home", "repair"})
DEVICE_MAX = 100  # characters, as journey.js
COMMENT_MAX = 500  # characters of a rating comment
ENDED_BY = ("agent", "customer", "system")
_VERDICT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Topic:
    code: str
    label: str
    icon: str
    known: bool  # the catalogs name it (else the code is shown as it is)


def _catalogs() -> dict[str, dict[str, str]]:
    return {code: i18n.catalog(code) for code in i18n.LOCALES}


def label(locale: str, prefix: str, code: str) -> str:
    """A code's name in the catalog (the code itself when the catalogs do not name it)."""
    return _label(locale, prefix, code)[0]


def _label(locale: str, prefix: str, code: str) -> tuple[str, bool]:
    key = f"{prefix}.{code}"
    known = key in i18n.catalog(locale) or key in i18n.catalog(i18n.DEFAULT_LOCALE)
    return (i18n.translate(locale, key) if known else code), known


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


async def start(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    locale = i18n.negotiate(request)
    topics = []
    for code in settings.topics:
        label, known = _label(locale, "topic", code)
        icon = f"topic-{code}" if code in TOPIC_ICONS else "topic-other"
        topics.append(Topic(code=code, label=label, icon=icon, known=known))
    return render(
        request,
        "start.html",
        languages=list(settings.sign_languages),
        language_names={code: _label(locale, "sl", code)[0] for code in settings.sign_languages},
        topics=topics,
        preselect_language=_one_of(request.query.get("language"), settings.sign_languages),
        device_max=DEVICE_MAX,
        catalogs=_catalogs(),
    )


async def wait(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    verdict = request.query.get("verdict", "")
    return render(
        request,
        "wait.html",
        language=_one_of(request.query.get("language"), settings.sign_languages),
        topic=_one_of(request.query.get("topic"), settings.topics),
        verdict=verdict if _VERDICT_RE.fullmatch(verdict) else "",
        catalogs=_catalogs(),
    )


async def rate(request: web.Request) -> web.Response:
    return render(
        request,
        "rate.html",
        ended_by=_one_of(request.query.get("by"), ENDED_BY) or "system",
        comment_max=COMMENT_MAX,
        catalogs=_catalogs(),
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/wait", wait)
    app.router.add_get("/rate", rate)
