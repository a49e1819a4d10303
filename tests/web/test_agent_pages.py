"""The agent console page through the real app: who may open it, what it embeds, escaping."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.web import i18n
from signlink.web.agent_pages import OUTCOMES
from signlink.web.app import create_app
from tests.support.staff import Client, add_account, csrf_token, login


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings))


async def test_not_logged_in_page_redirects_to_login_with_next(client: Client) -> None:
    response = await client.get("/agent", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=%2Fagent"


async def test_not_logged_in_websocket_style_request_gets_401_not_a_redirect(client: Client) -> None:
    response = await client.get(
        "/agent", headers={"Upgrade": "websocket", "Connection": "Upgrade"}, allow_redirects=False
    )
    assert response.status == 401


@pytest.mark.parametrize("role", [Role.QA, Role.SUPERVISOR])
async def test_staff_without_the_agent_role_get_403(
    client: Client, settings: Settings, redis: Redis, role: Role
) -> None:
    await add_account(settings, redis, "quinn", role=role, display_name="Quinn")
    assert (await login(client, "quinn")).status == 303
    response = await client.get("/agent", allow_redirects=False)
    assert response.status == 403


async def test_agent_login_lands_on_the_console(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    response = await login(client)
    assert response.headers["Location"] == "/agent"
    page = await client.get("/agent")
    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-store"


async def test_admin_may_open_the_console(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis, "root", role=Role.ADMIN, display_name="Admin")
    await login(client, "root")
    assert (await client.get("/agent")).status == 200


async def test_console_shows_name_and_skills_and_embeds_what_the_script_needs(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(
        settings, redis, display_name="Ana <b>Li</b>", languages=("CSL",), topics=("phone", "pc")
    )
    await login(client)
    text = await (await client.get("/agent")).text()
    assert html.escape("Ana <b>Li</b>") in text and "<b>Li</b>" not in text
    assert re.search(
        r'id="my-languages">\s*<span class="chip chip-lang" data-code="CSL">CSL</span></span>', text
    )
    assert 'data-code="phone"' in text and 'data-code="pc"' in text
    assert f'<meta name="csrf-token" content="{await csrf_token(client)}">' in text
    assert 'data-ws="/ws"' in text
    assert f'data-offer-timeout="{settings.offer_timeout_s}"' in text
    # Every outcome code of the contract, every language and topic the service offers for a transfer.
    for code in OUTCOMES:
        assert f'<option value="{code}"' in text
    for code in (*settings.sign_languages, *settings.topics):
        assert f'<option value="{code}"' in text
    assert '<script type="module" src="/static/js/agent.js"></script>' in text
    assert "<script>" not in text  # CSP: no inline script
    embedded = re.search(r'<script type="application/json" id="i18n-urls">(.*?)</script>', text, re.S)
    assert embedded
    catalog = await (await client.get(json.loads(embedded[1])["zh-CN"])).json()
    assert catalog["agent.offer.accept"] == i18n.translate("zh-CN", "agent.offer.accept")


async def test_console_in_chinese(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    await login(client)
    text = await (await client.get("/agent?lang=zh-CN")).text()
    assert '<html lang="zh-CN">' in text
    assert i18n.translate("zh-CN", "agent.offer.accept") in text
    assert i18n.translate("zh-CN", "agent.wrapup.title") in text


def test_every_agent_key_exists_in_both_languages() -> None:
    en = {k for k in i18n.catalog("en") if k.startswith("agent.")}
    zh = {k for k in i18n.catalog("zh-CN") if k.startswith("agent.")}
    assert en == zh
    for code in OUTCOMES:
        assert f"agent.outcome.{code}" in en


def test_every_literal_key_the_console_uses_is_in_the_catalog() -> None:
    web = Path(i18n.__file__).parent
    sources = [web / "templates" / "agent.html", *sorted((web / "static" / "js").glob("agent*.js"))]
    used: set[str] = set()
    counted: set[str] = set()  # tn(): a key per plural form
    for source in sources:
        text = source.read_text("utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z][\w.-]*)["']""", text))
        counted |= set(re.findall(r"""\btn\(\s*["']([a-z][\w.-]*)["']""", text))
        used |= set(re.findall(r'data-i18n="([a-z][\w.-]*)"', text))
    assert len(used) > 50
    missing = sorted(k for k in used if not k.endswith(".") and k not in i18n.catalog("en"))
    assert missing == []
    assert counted and sorted(k for k in counted if f"{k}.other" not in i18n.catalog("en")) == []
