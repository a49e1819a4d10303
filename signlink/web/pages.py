"""The customer's pages: the camera check and help.

Pages are server-rendered in the negotiated language; their JavaScript gets every catalog so the
language switch can re-render texts without a reload (a running camera check keeps going).
"""

from __future__ import annotations

import secrets

from aiohttp import web

from signlink import ice
from signlink.check.outcome import NO_VERDICT
from signlink.web import customer_pages, i18n, keys
from signlink.web.redirects import safe_next
from signlink.web.render import render


def _ice_servers(request: web.Request) -> list[dict[str, object]]:
    # STUN and TURN (time-limited credentials, one random user per page): a customer behind a
    # UDP-blocking network reaches the check through the relay.
    user = f"check-page:{secrets.token_urlsafe(8)}"
    return [server.to_wire() for server in ice.ice_servers(request.app[keys.SETTINGS], user)]


def _catalogs() -> dict[str, dict[str, str]]:
    return {code: i18n.catalog(code) for code in i18n.LOCALES}


async def index(request: web.Request) -> web.StreamResponse:
    return await customer_pages.start(request)


async def check(request: web.Request) -> web.Response:
    return render(
        request,
        "check.html",
        next_path=safe_next(request.query.get("next")) or "",
        ice_servers=_ice_servers(request),
        catalogs=_catalogs(),
        criteria=CRITERIA,
        no_verdict=NO_VERDICT,
    )


async def help_page(request: web.Request) -> web.Response:
    return render(request, "help.html", catalogs=_catalogs())


# The analyser's criteria, in the order the checklist shows them (most actionable first).
CRITERIA = ("hands", "framing", "face", "light", "sharpness", "frame_rate", "resolution", "frozen")
