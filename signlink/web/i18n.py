"""Interface text in English and Simplified Chinese.

Every string a page shows comes from locales/<locale>.json; pages also receive the catalog so their
JavaScript can switch language without a reload. The choice persists in a cookie (RAUR UN3).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from aiohttp import web

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
