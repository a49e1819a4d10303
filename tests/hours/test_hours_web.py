"""Opening hours through the real app, PostgreSQL and Redis: the staff page, GET /api/hours, closed joins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.hours.calendar import ForceState
from signlink.web import hours_api, keys
from signlink.web.app import create_app
from tests.support.staff import add_account, csrf_token, login

App = TestClient[Any, Any]
LINE = {"language": "ASL", "topic": ""}


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, settings: Settings) -> App:
    client: App = await aiohttp_client(create_app(settings.replace(hours_cache_s=0.0)))
    return client


async def supervisor(app: App, redis: Redis, settings: Settings) -> str:
    await add_account(settings, redis, "sam", role=Role.SUPERVISOR, display_name="Sam")
    assert (await login(app, "sam")).status == 303
    return await csrf_token(app)


async def post(app: App, path: str, token: str, **form: str) -> Any:
    return await app.post(path, data={"csrf_token": token, **LINE, **form}, allow_redirects=False)


async def test_a_line_without_hours_is_open_all_the_time(app: App) -> None:
    body = await (await app.get("/api/hours?language=ASL&topic=phone")).json()
    assert body["open"] is True and body["closes_at"] is None and body["next_opening"] is None
    bad = await app.get("/api/hours?language=XSL")
    assert bad.status == 400 and (await bad.json())["error"] == "bad_field"


async def test_force_close_refuses_joins_with_the_next_opening(
    app: App, redis: Redis, settings: Settings
) -> None:
    token = await supervisor(app, redis, settings)
    until = (datetime.now(UTC) + timedelta(hours=3)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    saved = await post(
        app,
        "/staff/hours/weekly",
        token,
        time_zone="UTC",
        **{f"day_{d}": "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    assert saved.status == 303
    forced = await post(app, "/staff/hours/force", token, state="closed", until=until, reason="staff meeting")
    assert forced.status == 303, await forced.text()
    response = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})
    body = await response.json()
    assert response.status == 422 and body["error"] == "closed"
    assert body["hours"]["open"] is False and body["hours"]["forced"] is True
    assert body["hours"]["reason"] == "staff meeting"
    assert body["hours"]["next_opening"]["iso"].startswith(until)
    assert body["can_now"] == ["video_mail", "come_back"]
    other = await app.post("/api/tickets", json={"language": "CSL", "topic": "phone"})
    assert (await other.json())["error"] != "closed"  # CSL has no hours: open
    # Back to its hours: joins pass the hours check again.
    assert (await post(app, "/staff/hours/force", token, state="none")).status == 303
    again = await app.post("/api/tickets", json={"language": "ASL", "topic": "phone"})
    assert (await again.json()).get("error") != "closed"


async def test_emergency_is_admitted_when_closed_and_customers_cannot_choose_it(
    app: App, redis: Redis, settings: Settings
) -> None:
    token = await supervisor(app, redis, settings)
    assert (await post(app, "/staff/hours/force", token, state="closed", reason="night")).status == 303
    assert await hours_api.closed_refusal(app.app, "ASL", "phone", "emergency") is None
    refused = await hours_api.closed_refusal(app.app, "ASL", "phone", "callback")
    assert refused is not None and refused.status == 422
    response = await app.post(
        "/api/tickets", json={"language": "ASL", "topic": "phone", "priority_class": "emergency"}
    )
    assert response.status == 400  # emergency is set by staff, never by a customer


async def test_topic_hours_replace_the_language_hours(app: App, redis: Redis, settings: Settings) -> None:
    token = await supervisor(app, redis, settings)
    assert (await post(app, "/staff/hours/force", token, state="closed", reason="closed")).status == 303
    repair = {"language": "ASL", "topic": "repair"}
    response = await app.post(
        "/staff/hours/force",
        data={"csrf_token": token, **repair, "state": "open", "reason": "repair desk"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert (await (await app.get("/api/hours?language=ASL&topic=repair")).json())["open"] is True
    assert (await (await app.get("/api/hours?language=ASL&topic=phone")).json())["open"] is False


async def test_holiday_override_is_kept_and_listed_and_deleted(
    app: App, redis: Redis, settings: Settings
) -> None:
    token = await supervisor(app, redis, settings)
    added = await post(
        app,
        "/staff/hours/overrides",
        token,
        kind="closed",
        starts="2027-02-05",
        ends="2027-02-12",
        reason="Spring Festival",
    )
    assert added.status == 303
    lines = await app.app[keys.HOURS].store.all()
    (override,) = lines[("ASL", "")].calendar.overrides
    assert override.reason == "Spring Festival" and override.ends.isoformat() == "2027-02-12"
    page = await (await app.get("/staff/hours?language=ASL")).text()
    assert "Spring Festival" in page and "2027-02-05" in page
    deleted = await post(app, "/staff/hours/overrides/delete", token, id=str(override.id))
    assert deleted.status == 303
    assert not (await app.app[keys.HOURS].store.all())[("ASL", "")].calendar.overrides


async def test_bad_input_shows_the_error_and_keeps_what_was_typed(
    app: App, redis: Redis, settings: Settings
) -> None:
    token = await supervisor(app, redis, settings)
    response = await post(
        app, "/staff/hours/weekly", token, time_zone="Asia/Shanghai", day_mon="nine to five"
    )
    assert response.status == 400
    html = await response.text()
    assert "write hours as 09:00-17:00" in html and 'value="nine to five"' in html
    zone = await post(app, "/staff/hours/weekly", token, time_zone="Mars/Olympus")
    assert zone.status == 400 and "not a known time zone" in await zone.text()
    no_reason = await post(
        app, "/staff/hours/overrides", token, kind="closed", starts="2027-02-05", reason=""
    )
    assert no_reason.status == 400


async def test_only_supervisors_and_admins_edit_hours(app: App, redis: Redis, settings: Settings) -> None:
    anonymous = await app.get("/staff/hours", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login")
    await add_account(settings, redis, "ana", role=Role.AGENT)
    assert (await login(app, "ana")).status == 303
    assert (await app.get("/staff/hours")).status == 403
    token = await csrf_token(app)
    assert (await post(app, "/staff/hours/force", token, state="closed", reason="x")).status == 403
    assert (await app.app[keys.HOURS].store.all()) == {}


async def test_a_form_without_the_csrf_token_is_refused(app: App, redis: Redis, settings: Settings) -> None:
    await supervisor(app, redis, settings)
    response = await app.post("/staff/hours/force", data={**LINE, "state": "closed", "reason": "x"})
    assert response.status == 403
    assert (await app.app[keys.HOURS].store.all()) == {}


async def test_another_process_sees_the_change(
    app: App, aiohttp_client: AiohttpClient, redis: Redis, settings: Settings
) -> None:
    other: App = await aiohttp_client(create_app(settings.replace(hours_cache_s=0.0)))
    assert (await (await other.get("/api/hours?language=ASL")).json())["open"] is True
    token = await supervisor(app, redis, settings)
    assert (await post(app, "/staff/hours/force", token, state="closed", reason="drill")).status == 303
    assert (await (await other.get("/api/hours?language=ASL")).json())["open"] is False
    stored = (await other.app[keys.HOURS].store.all())[("ASL", "")]
    assert stored.calendar.force is not None and stored.calendar.force.state is ForceState.CLOSED
