"""The customer's pages as HTML: status, language negotiation, the `next` parameter, CSP-clean markup."""

from __future__ import annotations

import json
import re

import pytest
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web import i18n
from signlink.web.app import create_app
from signlink.web.pages import CRITERIA
from signlink.web.redirects import safe_next


@pytest.mark.parametrize(
    "value",
    ["/", "/call", "/call?ticket=1&x=y", "/a/b#top", "/%2F%2Fevil.example"],
)
def test_next_accepts_same_site_paths(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "call",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/call\nSet-Cookie: x=1",
        "/call\t",
        "/" + "a" * 2000,
    ],
)
def test_next_refuses_other_sites_and_junk(value: str | None) -> None:
    assert safe_next(value) is None


async def test_check_page_renders_in_english_by_default(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/check")
    assert response.status == 200
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Start camera check" in html
    for name in CRITERIA:
        assert f'data-criterion="{name}"' in html
    assert 'role="status"' in html
    assert 'href="/help"' in html


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("?lang=zh-CN", {}, "zh-CN"),
        ("?lang=zh", {}, "zh-CN"),
        ("", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh-CN"),
        ("", {"Accept-Language": "fr-FR,en;q=0.5"}, "en"),
        ("?lang=en", {"Accept-Language": "zh-CN"}, "en"),
        ("?lang=xx", {"Accept-Language": "zh-CN"}, "zh-CN"),
    ],
)
async def test_language_is_negotiated(
    aiohttp_client: AiohttpClient, settings: Settings, query: str, headers: dict[str, str], expected: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get(f"/check{query}", headers=headers)
    html = await response.text()
    assert f'<html lang="{expected}">' in html
    assert i18n.translate(expected, "check.start") in html


async def test_lang_parameter_sets_the_cookie_and_the_cookie_is_used(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    first = await client.get("/help?lang=zh-CN")
    assert first.cookies[i18n.COOKIE].value == "zh-CN"
    again = await client.get("/help", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in await again.text()


async def test_page_names_every_catalog_file_for_the_live_switch(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get("/check")).text()
    match = re.search(r'<script type="application/json" id="i18n-urls">(.*?)</script>', html, re.S)
    assert match
    urls = json.loads(match.group(1))
    assert set(urls) == set(i18n.LOCALES)
    catalog = await (await client.get(urls["zh-CN"])).json()
    assert catalog["check.start"] == i18n.translate("zh-CN", "check.start")


async def test_every_key_exists_in_both_languages() -> None:
    assert set(i18n.catalog("en")) == set(i18n.catalog("zh-CN"))


@pytest.mark.parametrize(
    ("next_value", "kept"),
    [("/call?ticket=7", "/call?ticket=7"), ("//evil.example/x", ""), ("https://evil.example/", "")],
)
async def test_check_page_passes_only_a_safe_next(
    aiohttp_client: AiohttpClient, settings: Settings, next_value: str, kept: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/check", params={"next": next_value})
    html = await response.text()
    assert f'data-next="{kept}"' in html.replace("&amp;", "&")
    assert "evil.example" not in html


async def test_pages_have_no_inline_script_or_style(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    # The CSP forbids them: a page that relied on one would break silently in the browser.
    client = await aiohttp_client(create_app(settings))
    for path in ("/check", "/help"):
        response = await client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        html = await response.text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'type="application/json"' in tag or "src=" in tag, tag
        assert " style=" not in html
        assert "<style" not in html
        assert re.search(r"\son[a-z]+=", html) is None


async def test_help_page_and_root(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/help?lang=zh-CN")
    assert response.status == 200
    assert i18n.translate("zh-CN", "help.blocked_q") in await response.text()
    root = await client.get("/", allow_redirects=False)  # the start page (tests/test_customer_pages.py)
    assert root.status == 200
    assert i18n.translate("zh-CN", "start.title") in await root.text()


async def test_static_assets_the_pages_use_are_served(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get("/check")).text()
    assets = set(re.findall(r'(?:src|href)="(/static/[^"#]+)', html))
    assert {"/static/js/check.js", "/static/css/app.css", "/static/img/icons.svg"} <= assets
    for asset in assets:
        assert (await client.get(asset)).status == 200, asset


def test_every_locale_catalog_loads_and_a_key_given_twice_is_refused() -> None:
    for locale in i18n.LOCALES:
        assert i18n.catalog(locale)
    with pytest.raises(ValueError, match="given twice"):
        json.loads('{"a.b": "x", "a.b": "y"}', object_pairs_hook=i18n._unique)
