"""The agent console, `/agent`: one page for a whole shift (status, queue, offers, the call, wrap-up).

The page is rendered with what it needs before the WebSocket says hello: the agent's name and
skills, the choices for a transfer and the wrap-up outcome codes. Everything live (status, offers,
queue, the call) arrives over `/ws` (docs/protocol.md, "The call").
"""

from __future__ import annotations

from aiohttp import web

from signlink.accounts import Role
from signlink.videomail.checks import OUTCOMES as MAIL_OUTCOMES
from signlink.web import i18n, keys
from signlink.web.auth import csrf_token, current_account, require_role
from signlink.web.render import render

# Wrap-up outcome codes, in the order the form lists them (the wire contract's list).
OUTCOMES = ("resolved", "follow_up", "repair_booked", "transferred", "dropped", "other")
WS_PATH = "/ws"
# Ready-made visual prompts the agent can send as chat (locales: prompt.<key>).
PROMPTS = ("move_back", "light", "show_device", "show_serial", "slower", "wait")


def _catalogs() -> dict[str, dict[str, str]]:
    return {code: i18n.catalog(code) for code in i18n.LOCALES}


def _prompts() -> list[tuple[str, dict[str, str]]]:
    """Each prompt's wording in every language: the agent picks the customer's at send time."""
    return [(key, {code: i18n.translate(code, f"prompt.{key}") for code in i18n.LOCALES}) for key in PROMPTS]


@require_role(Role.AGENT)
async def console(request: web.Request) -> web.Response:
    account = current_account(request)
    assert account is not None  # require_role let us in
    settings = request.app[keys.SETTINGS]
    response = render(
        request,
        "agent.html",
        account=account,
        csrf_token=csrf_token(request) or "",
        languages=settings.sign_languages,
        topics=settings.topics,
        outcomes=OUTCOMES,
        mail_outcomes=MAIL_OUTCOMES,
        ws_path=WS_PATH,
        offer_timeout_s=settings.offer_timeout_s,
        catalogs=_catalogs(),
        prompts=_prompts(),
    )
    # A shift-long page with a CSRF token in it: never from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
