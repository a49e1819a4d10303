"""Catalogues as static files: a page embeds only its own language; the other comes from
/i18n/<locale>.json, cached for a year per version, revalidated otherwise."""

from __future__ import annotations

import re

from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web import i18n
from signlink.web.app import create_app


async def test_a_page_embeds_only_its_own_language_and_names_the_other_files(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get("/?lang=en")).text()
    assert i18n.translate("zh-CN", "start.title") not in html  # no Chinese catalogue inline
    assert 'id="i18n-all"' not in html
    urls = re.search(r'<script type="application/json" id="i18n-urls">([^<]+)</script>', html)
    assert urls is not None and "/i18n/zh-CN.json?v=" in urls.group(1)


async def test_the_catalogue_file_is_cached_by_version_and_revalidated_otherwise(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    url = i18n.catalog_urls()["zh-CN"]
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    data = await response.json()
    assert data["start.title"] == i18n.translate("zh-CN", "start.title")
    assert set(data) >= set(i18n.catalog("en"))  # English fills any gap
    stale = await client.get("/i18n/zh-CN.json?v=old")
    assert stale.headers["Cache-Control"] == "no-cache"
    again = await client.get("/i18n/zh-CN.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
    assert (await client.get("/i18n/fr.json")).status == 404
