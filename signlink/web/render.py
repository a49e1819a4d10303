"""Render a page: the template gets the locale, `t()` and the catalog for its JavaScript."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signlink.web import i18n, keys


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    locale = i18n.negotiate(request)
    env = request.app[keys.TEMPLATES]

    def t(key: str, **values: object) -> str:
        return i18n.translate(locale, key, **values)

    html = env.get_template(template).render(
        locale=locale,
        locales=i18n.LOCALES,
        t=t,
        catalog=i18n.page_catalog(locale),
        catalog_urls=i18n.catalog_urls(),
        template=template,
        **context,
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    if request.query.get("lang") and i18n.normalise(request.query["lang"]):
        response.set_cookie(i18n.COOKIE, locale, max_age=365 * 86400, samesite="Lax", httponly=False)
    return response
