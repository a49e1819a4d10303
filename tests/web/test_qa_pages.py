"""The QA pages through the real app and real records: who may open them, what they show, escaping."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.queue.models import JoinRequest
from signlink.web import i18n, keys
from signlink.web.agent_pages import OUTCOMES
from signlink.web.app import create_app
from signlink.web.qa_format import Fmt
from signlink.web.qa_metrics import criteria_rows
from signlink.web.qa_pages import LIVE_STATUSES
from tests.support.qa_seed import (
    HOSTILE_COMMENT,
    HOSTILE_NAME,
    HOSTILE_NOTE,
    HOSTILE_WRAP,
    add_qa,
    seed,
)
from tests.support.staff import Client, login

PAGES = ("/qa", "/qa/sessions", "/qa/sessions/t1", "/qa/live")
DAY_QUERY = "from=2027-01-15&to=2027-01-15"


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings, redis: Redis) -> Client:
    await seed(settings, redis)
    return await aiohttp_client(create_app(settings))


async def as_qa(client: Client, settings: Settings, redis: Redis) -> Client:
    await add_qa(settings, redis)
    assert (await login(client, "quinn")).status == 303
    return client


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-ticket="([^"]+)">', page)


# Roles


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_is_sent_to_login_and_back(client: Client, path: str) -> None:
    response = await client.get(f"{path}?lang=en", allow_redirects=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [f"{path}?lang=en"]


@pytest.mark.parametrize("path", PAGES)
async def test_an_agent_gets_an_html_403_page(client: Client, path: str) -> None:
    assert (await login(client, "bob")).status == 303
    response = await client.get(path, allow_redirects=False)
    assert response.status == 403
    assert response.content_type == "text/html"
    text = await response.text()
    assert i18n.translate("en", "qa.forbidden.title") in text
    assert 'href="/agent"' in text  # one way on: the agent's own page
    assert "Ana" not in text and "t1" not in text  # no QA data leaks into the refusal


@pytest.mark.parametrize("role", [Role.QA, Role.SUPERVISOR, Role.ADMIN])
@pytest.mark.parametrize("path", PAGES)
async def test_qa_supervisor_and_admin_may_open_every_page(
    client: Client, settings: Settings, redis: Redis, path: str, role: Role
) -> None:
    await add_qa(settings, redis, "staff", role=role)
    assert (await login(client, "staff")).status == 303
    response = await client.get(path)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    assert "<script>" not in text  # CSP: no inline script, only JSON data blocks and modules


async def test_unknown_ticket_is_an_html_404(client: Client, settings: Settings, redis: Redis) -> None:
    await as_qa(client, settings, redis)
    response = await client.get("/qa/sessions/nope")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert i18n.translate("en", "qa.not_found.title") in await response.text()


# What the pages show


async def test_overview_shows_the_days_figures_with_units(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    text = await (await client.get(f"/qa?{DAY_QUERY}")).text()
    # The dataset by hand: answered in 8, 25, 40, 100, 130, 200 s; 2 abandoned; 1 unserved; 1 waiting.
    assert "10 customers: 6 answered, 2 left before an answer, 1 could not be served." in text
    figure = _figure(text, "service_level")
    assert "Answered within 120 s" in figure and ">50%<" in figure  # 4 of 8
    assert "25% within 30 s" in figure  # 2 of 8
    assert ">25.0%<" in _figure(text, "abandonment")
    # 503 / 6 = 83.8 s: minutes and seconds, each with its unit.
    assert re.search(
        r'<span class="n">1</span>&#8201;<span class="u">min</span> <span class="n">24</span>', text
    )
    assert "1 declined, 1 timed out; 11 offers made in all." in _figure(text, "offers")


async def test_overview_agents_table_escapes_names(client: Client, settings: Settings, redis: Redis) -> None:
    await as_qa(client, settings, redis)
    text = await (await client.get(f"/qa?{DAY_QUERY}")).text()
    table = text[text.index('id="agents-table"') :]
    assert str(escape(HOSTILE_NAME)) in table
    assert HOSTILE_NAME not in text
    # ana handled t1, t2, t4 and the first call of t6: four; linked to her sessions in the period.
    row = re.search(r'<tr data-agent="ana">(.*?)</tr>', table, re.S)
    assert row and '<td class="num">4</td>' in row[1]
    assert 'href="/qa/sessions?from=2027-01-15&amp;to=2027-01-15&amp;agent=ana"' in row[1]


async def test_overview_charts_have_text_and_tables_and_data(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    text = await (await client.get(f"/qa?{DAY_QUERY}")).text()
    embedded = re.search(r'<script type="application/json" id="qa-charts-data">(.*?)</script>', text, re.S)
    assert embedded
    data = json.loads(embedded[1])
    assert {"calls", "answer_time", "by_language", "by_topic"} <= data.keys()
    by_language = data["by_language"]
    assert by_language["labels"] == ["ASL", "BSL", "CSL"]
    assert by_language["series"][0]["values"] == [4, 2, 0]  # answered
    for chart in data:
        figure = re.search(rf'<figure [^>]*data-chart="{chart}">(.*?)</figure>', text, re.S)
        assert figure, chart
        assert 'class="qa-chart-summary"' in figure[1] and "<table>" in figure[1]
        assert 'class="qa-chart-canvas" aria-hidden="true"' in figure[1]


async def test_sessions_filters_narrow_the_list_and_the_csv_link_follows(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    everything = rows_of(await (await client.get(f"/qa/sessions?{DAY_QUERY}")).text())
    assert sorted(everything) == sorted(["t1", "t2", "t3", "t4", "t5", "t6", "a1", "a2", "u1", "w1"])
    assert everything[0] == "w1"  # newest first
    text = await (await client.get(f"/qa/sessions?{DAY_QUERY}&language=BSL&outcome=answered")).text()
    assert sorted(rows_of(text)) == ["t5", "t6"]
    link = re.search(r'id="csv-link" href="([^"]+)"', text)
    assert link and html.unescape(link[1]) == (
        "/qa/sessions.csv?from=2027-01-15&to=2027-01-15&language=BSL&outcome=answered"
    )
    assert '<option value="BSL" selected>' in text
    assert sorted(rows_of(await (await client.get(f"/qa/sessions?{DAY_QUERY}&check=continued")).text())) == [
        "a1",
        "t3",
        "t6",
    ]
    assert rows_of(await (await client.get(f"/qa/sessions?{DAY_QUERY}&agent=cy")).text()) == ["t6", "t3"]


async def test_sessions_page_pages_with_the_cursor(client: Client, settings: Settings, redis: Redis) -> None:
    await as_qa(client, settings, redis)
    seen: list[str] = []
    url: str | None = f"/qa/sessions?{DAY_QUERY}"
    pages = 0
    while url:
        text = await (await client.get(url)).text()
        seen += rows_of(text)
        found = re.search(r'<a href="([^"]+)" id="next-page"', text)
        url = html.unescape(found[1]) if found else None
        pages += 1
        assert pages < 20
    assert len(seen) == len(set(seen)) == 10


async def test_a_malformed_filter_is_said_on_the_page(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    response = await client.get("/qa/sessions?from=yesterday")
    assert response.status == 400
    text = await response.text()
    assert 'id="filter-error"' in text and 'role="alert"' in text
    assert response.content_type == "text/html"


async def test_session_page_shows_the_contact_and_escapes_what_people_typed(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    text = await (await client.get("/qa/sessions/t1")).text()
    for typed in (HOSTILE_NAME, HOSTILE_NOTE, HOSTILE_WRAP, HOSTILE_COMMENT):
        assert str(escape(typed)) in text, typed
        assert typed not in text
    # Facts, timeline in order, the check and the rating.
    assert re.search(r'id="fact-agent">[^<]*&lt;script&gt;', text)
    events = re.findall(r'<li data-event="([a-z_]+)">', text)
    assert events[:4] == ["joined", "offered", "offer_accepted", "connected"]
    assert "ended" in events and "wrapped_up" in events
    assert '<p class="qa-verdict" data-passed="true">' in text
    assert '<dd class="qa-rating">5 / 5</dd>' in text


async def test_session_page_of_a_failed_check_and_an_abandoned_ticket(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await as_qa(client, settings, redis)
    text = await (await client.get("/qa/sessions/a1")).text()
    assert '<p class="qa-verdict" data-passed="false">' in text
    assert i18n.translate("en", "qa.session.went_on") in text
    assert re.search(r'<tr data-status="fail"><th scope="row">Head to waist in view</th>', text)
    assert i18n.translate("en", "qa.session.no_call") in text
    assert re.findall(r'<li data-event="([a-z_]+)">', text)[-1] == "abandoned"


async def test_live_page_shows_the_queue_now(client: Client, settings: Settings, redis: Redis) -> None:
    await as_qa(client, settings, redis)
    queue = client.app[keys.QUEUE]
    await queue.agent_login("bob", ("ASL",), ("phone",), name="Bob Chen", ready=False)  # away
    await queue.join(JoinRequest("customer-token-0001", "ASL", "phone", "normal"))
    text = await (await client.get("/qa/live")).text()
    assert re.search(r'id="live-waiting">1<', text)
    assert re.search(r'id="live-agents-away">1<', text)
    assert re.search(r'id="live-agents-available">0<', text)
    row = re.search(r'<tr data-line="ASL/phone"[^>]*>(.*?)</tr>', text, re.S)
    assert row and '<td class="num">1</td>' in row[1]
    assert 'data-line="BSL/pc"' not in text  # nobody waiting, no agent: summed up below the table
    assert i18n.plural("en", "qa.live.quiet", len(settings.sign_languages) * len(settings.topics) - 1) in text
    assert '<script type="module" src="/static/js/qa-live.js">' in text


async def test_pages_in_chinese(client: Client, settings: Settings, redis: Redis) -> None:
    await as_qa(client, settings, redis)
    for path in PAGES:
        text = await (await client.get(f"{path}?lang=zh-CN")).text()
        assert '<html lang="zh-CN">' in text
        assert i18n.translate("zh-CN", "qa.nav.overview") in text


def test_every_qa_key_the_pages_use_is_in_both_catalogs() -> None:
    web = Path(i18n.__file__).parent
    sources = [
        *sorted((web / "templates" / "qa").glob("*.html")),
        *sorted((web / "static" / "js").glob("qa-*.js")),
    ]
    sources += [web / "qa_pages.py", web / "qa_charts.py", web / "qa_format.py"]
    used: set[str] = set()
    for source in sources:
        # Keys, not the label groups fmt.label() completes with a code (e.g. "qa.live.count").
        found = re.findall(
            r"""(?<!label\()["'](qa\.[a-z_0-9]+\.[a-z_0-9.]+)["']""", source.read_text("utf-8")
        )
        used |= set(found)
    assert len(used) > 100
    en, zh = i18n.catalog("en"), i18n.catalog("zh-CN")
    # A counting text (fmt.plural, tn) is used by its stem and has a key per plural form.
    assert sorted(k for k in used if k not in en and f"{k}.other" not in en) == []
    assert {k for k in en if k.startswith("qa.")} == {k for k in zh if k.startswith("qa.")}
    # Codes the pages turn into words: every wrap-up outcome the console offers, every agent status.
    for code in OUTCOMES:
        assert f"qa.wrap.{code}" in en
    for status in LIVE_STATUSES:
        assert f"qa.live.count.{status.value}" in en


def _figure(page: str, name: str) -> str:
    found = re.search(rf'<li class="qa-figure" data-figure="{name}">(.*?)</li>', page, re.S)
    assert found, name
    return found[1]


def test_a_criterion_not_measured_is_never_shown_as_good() -> None:
    fmt = Fmt("en")
    check = {
        "criteria": {
            "hands": {"status": "pass", "value": 1.0},
            "framing": {"status": "not_measured", "value": None},
            "face": {"status": "pending", "value": None},
        }
    }
    rows = criteria_rows(fmt, check)
    assert [name for name, _ in rows] == ["face", "framing", "hands"]  # the good one last
    good = fmt.label("qa.crit_status", "pass")
    for _, row in rows[:2]:
        word = fmt.label("qa.crit_status", row["status"])
        assert word == i18n.translate("en", "status.not_measured") and word != good
    assert Fmt("zh-CN").label("qa.crit_status", "not_measured") == i18n.translate(
        "zh-CN", "status.not_measured"
    )
