"""Interface text in English and Simplified Chinese.

Every string a page shows comes from locales/<locale>.json. A page embeds only its own language's
catalog (with English filling any gap); a page that can switch language without a reload fetches the
other one from `/i18n/<locale>.json?v=<version>`, a static, cacheable file (immutable per version).
The choice persists in a cookie (RAUR UN3).

A text that counts something has one key per CLDR plural form, `<key>.one`, `<key>.other` (Chinese
uses only "other"); `plural()` picks the form from Babel's locale data, static/js/i18n.js `tn()`
from the browser's Intl.PluralRules (the same CLDR rules).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources

from aiohttp import web
from babel import Locale

LOCALES = ("en", "zh-CN")
DEFAULT_LOCALE = "en"
COOKIE = "signlink_lang"


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    # A key given twice (two branches both adding it) silently keeps the last: refuse it instead.
    data: dict[str, str] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"locale key {key!r} is given twice")
        data[key] = value
    return data


@cache
def catalog(locale: str) -> dict[str, str]:
    text = resources.files("signlink.web").joinpath("locales", f"{locale}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text, object_pairs_hook=_unique)
    return data


@cache
def page_catalog(locale: str) -> dict[str, str]:
    """What a page embeds: its language's catalog, English where a key is missing."""
    return {**catalog(DEFAULT_LOCALE), **catalog(locale)}


@cache
def catalog_version(locale: str) -> str:
    return hashlib.sha256(json.dumps(page_catalog(locale), sort_keys=True).encode()).hexdigest()[:12]


def catalog_urls() -> dict[str, str]:
    return {code: f"/i18n/{code}.json?v={catalog_version(code)}" for code in LOCALES}


async def serve_catalog(request: web.Request) -> web.Response:
    """GET /i18n/<locale>.json: the page catalog; cached for a year when asked by its version."""
    locale = request.match_info["locale"]
    if locale not in LOCALES:
        raise web.HTTPNotFound(text="no such language")
    version = catalog_version(locale)
    response = web.json_response(page_catalog(locale), dumps=lambda d: json.dumps(d, ensure_ascii=False))
    response.etag = version
    current = request.query.get("v") == version
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if current else "no-cache"
    if request.if_none_match and any(tag.value == version for tag in request.if_none_match):
        return web.Response(status=304, headers={"ETag": f'"{version}"', "Cache-Control": "no-cache"})
    return response


def normalise(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("zh"):
        return "zh-CN"
    if value.startswith("en"):
        return "en"
    return None


def negotiate(request: web.Request) -> str:
    """?lang= first, then the cookie, then Accept-Language, then English."""
    for candidate in (request.query.get("lang"), request.cookies.get(COOKIE)):
        locale = normalise(candidate)
        if locale:
            return locale
    for part in request.headers.get("Accept-Language", "").split(","):
        locale = normalise(part.split(";")[0])
        if locale:
            return locale
    return DEFAULT_LOCALE


def translate(locale: str, key: str, **values: object) -> str:
    text = catalog(locale).get(key) or catalog(DEFAULT_LOCALE).get(key) or key
    return text.format(**values) if values else text


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale, sep="-")


def plural(locale: str, key: str, count: float, *, shown: str | None = None, **values: object) -> str:
    """`key.<form>` for `count` ("1 customer", "2 customers"), its {count} filled with `shown`
    (the count as the page writes it, e.g. "1,204") or the count itself."""
    form = _babel_locale(locale).plural_form(abs(count))
    texts = catalog(locale)
    chosen = f"{key}.{form}" if f"{key}.{form}" in texts else f"{key}.other"
    return translate(locale, chosen, count=count if shown is None else shown, **values)
