"""The customer's journey pages as HTML: start (/), /wait, /rate. Only known codes reach a page."""

from __future__ import annotations

import json
import re

import pytest
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web import i18n
from signlink.web.app import create_app
from signlink.web.customer_pages import TOPIC_ICONS


def attr(html: str, element_id: str, name: str) -> str:
    """The value of attribute `name` on the element with id `element_id` (html-unescaped)."""
    tag = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', html, re.S)
    assert tag, f"no element #{element_id}"
    found = re.search(rf'\b{re.escape(name)}="([^"]*)"', tag.group(0))
    assert found, f"#{element_id} has no {name}"
    return found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


def assert_csp_clean(html: str) -> None:
    """No inline script or style: the CSP would refuse them."""
    assert " style=" not in html
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html)
    for script in re.findall(r"<script\b[^>]*>", html):
        assert 'type="application/json"' in script or 'src="' in script, script


async def test_root_is_the_start_page_with_every_language_and_topic_as_a_radio(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    assert i18n.translate("en", "start.title") in html
    for code in settings.sign_languages:
        assert f'name="language" value="{code}"' in html
        assert i18n.translate("en", f"sl.{code}") in html
    for code in settings.topics:
        assert f'name="topic" value="{code}"' in html
        assert i18n.translate("en", f"topic.{code}") in html
        assert f"#topic-{code}" in html  # its own icon
    assert json.loads(attr(html, "start", "data-languages")) == list(settings.sign_languages)
    assert 'href="/help"' in html
    assert_csp_clean(html)


async def test_start_page_in_chinese(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get("/?lang=zh-CN")).text()
    assert '<html lang="zh-CN">' in html
    assert i18n.translate("zh-CN", "start.title") in html
    assert i18n.translate("zh-CN", "sl.CSL") in html


async def test_an_unknown_topic_gets_the_generic_icon_and_its_code_as_label(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings.replace(topics=("phone", "billing"))))
    html = await (await client.get("/")).text()
    assert "billing" not in TOPIC_ICONS
    assert re.search(r'value="billing".*?#topic-other.*?>billing</span>', html, re.S)


@pytest.mark.parametrize(("query", "kept"), [("?language=ASL", "ASL"), ("?language=XX", ""), ("", "")])
async def test_start_preselects_only_a_served_code(
    aiohttp_client: AiohttpClient, settings: Settings, query: str, kept: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get(f"/{query}")).text()
    assert attr(html, "start", "data-preselect-language") == kept


async def test_wait_page_carries_the_request_and_every_view(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/wait", params={"language": "CSL", "topic": "phone", "verdict": "v_12-ab"})
    assert response.status == 200
    html = await response.text()
    assert attr(html, "journey", "data-language") == "CSL"
    assert attr(html, "journey", "data-topic") == "phone"
    assert attr(html, "journey", "data-verdict") == "v_12-ab"
    for view in ("waiting", "call", "message"):
        assert f'data-view="{view}"' in html
    assert attr(html, "wait-status", "role") == "status"
    assert attr(html, "chat-log-box", "role") == "log"
    assert attr(html, "chat-text", "maxlength") == "2000"
    assert '<dialog class="confirm" id="leave-dialog"' in html
    assert '<dialog class="confirm" id="end-dialog"' in html
    assert re.search(r'<script type="application/json" id="i18n-urls">', html)
    assert_csp_clean(html)


@pytest.mark.parametrize(
    "params",
    [
        {"language": "<script>", "topic": "phone", "verdict": "none"},
        {"language": "CSL", "topic": 'x" onload="y', "verdict": "a b"},
        {"language": "CSL", "topic": "phone", "verdict": "v" * 65},
    ],
)
async def test_wait_page_drops_unknown_or_malformed_values(
    aiohttp_client: AiohttpClient, settings: Settings, params: dict[str, str]
) -> None:
    client = await aiohttp_client(create_app(settings))
    html = await (await client.get("/wait", params=params)).text()
    for name in ("language", "topic", "verdict"):
        value = attr(html, "journey", f"data-{name}")
        assert value in ("", params[name]), name
        assert value == "" or re.fullmatch(r"[A-Za-z0-9_-]+", value)
    assert "<script>" not in html.split("<body>")[1].split('<script type="application/json"')[0]


@pytest.mark.parametrize(
    ("by", "key"), [("agent", "rate.ended_agent"), ("x", "rate.ended_system"), ("", "rate.ended_system")]
)
async def test_rate_page_has_five_faces_and_says_who_ended(
    aiohttp_client: AiohttpClient, settings: Settings, by: str, key: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/rate", params={"by": by} if by else {})
    assert response.status == 200
    html = await response.text()
    assert i18n.translate("en", key) in html
    for score in range(1, 6):
        assert f'name="score" value="{score}"' in html
        assert f"#face-{score}" in html
        assert i18n.translate("en", f"rate.score_{score}") in html
    assert_csp_clean(html)


async def test_journey_scripts_and_styles_are_served(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    for path in (
        "/static/js/start.js",
        "/static/js/wait.js",
        "/static/js/call-page.js",
        "/static/js/rate.js",
        "/static/js/signal.js",
        "/static/js/call.js",
        "/static/js/journey.js",
        "/static/css/tokens.css",
        "/static/css/customer.css",
        "/static/css/start.css",
        "/static/css/wait.css",
        "/static/css/call-view.css",
        "/static/css/customer-call.css",
        "/static/css/customer-chat.css",
        "/static/css/rate.css",
        "/static/img/call-icons.svg",
    ):
        response = await client.get(path)
        assert response.status == 200, path


async def test_every_icon_the_journey_uses_is_in_its_sprite(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    sprite = await (await client.get("/static/img/call-icons.svg")).text()
    symbols = set(re.findall(r'<symbol id="([^"]+)"', sprite))
    used: set[str] = set()
    for path in ("/", "/wait?language=CSL&topic=phone", "/rate"):
        html = await (await client.get(path)).text()
        used |= set(re.findall(r'/static/img/call-icons\.svg#([\w-]+)"', html))
    script = await (await client.get("/static/js/call-page.js")).text()
    status_icons = re.search(r"const STATUS_ICON = \{(.*?)\};", script)
    assert status_icons
    used |= set(re.findall(r'"([\w-]+)"', status_icons.group(1)))
    assert used, "no icon found: the pattern is wrong"
    assert used <= symbols, used - symbols
