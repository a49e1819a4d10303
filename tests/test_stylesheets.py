"""The stylesheets keep one vocabulary: colours only in tokens.css, no file over ~500 lines, and every
stylesheet a page links is served."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web.app import create_app

CSS = resources.files("signlink.web").joinpath("static", "css")
MAX_LINES = 500
GENERATED = {"font-sc.css"}  # scripts/build_cjk_font.py: one @font-face per font chunk
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")


def _sheets() -> dict[str, str]:
    return {item.name: item.read_text("utf-8") for item in CSS.iterdir() if item.name.endswith(".css")}


def test_no_stylesheet_is_over_500_lines() -> None:
    sheets = {name: text for name, text in _sheets().items() if name not in GENERATED}
    long = {name: text.count("\n") for name, text in sheets.items() if text.count("\n") > MAX_LINES}
    assert long == {}


def test_colours_and_custom_properties_are_defined_only_in_tokens_css() -> None:
    for name, text in _sheets().items():
        if name == "tokens.css":
            continue
        # data: URIs draw icons (their own %23-escaped colours); strip them before looking.
        plain = re.sub(r'url\("data:[^"]*"\)', "", text)
        assert HEX.findall(plain) == [], name
        assert ":root" not in plain, name
        assert re.findall(r"^\s*--[a-z0-9-]+:", plain, re.M) == [], name


def test_every_custom_property_used_is_defined() -> None:
    sheets = _sheets()
    defined = set(re.findall(r"^\s*(--[a-z0-9-]+):", sheets["tokens.css"], re.M))
    used = {m for text in sheets.values() for m in re.findall(r"var\((--[a-z0-9-]+)", text)}
    assert used - defined == set()


PAGES = ["/", "/check", "/help", "/wait?language=CSL&topic=phone", "/rate", "/login"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_stylesheet_a_page_links_is_served(
    aiohttp_client: AiohttpClient, settings: Settings, path: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get(path)).text()
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert "/static/css/tokens.css" in links
    for href in links:
        response = await client.get(href)
        assert response.status == 200, href
