"""The finder and the agent's case and booking API on the real app, Redis and PostgreSQL: search in
both scripts and pinyin, nearest ordering checked by hand, a case prefilled from the ticket, the last
slot booked twice at once, mail-in, and the customer's own view and .ics (parsed by icalendar)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from icalendar import Calendar
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.cases import directory, slots
from signlink.config import Settings
from signlink.db.database import Database
from signlink.web import keys
from signlink.web.app import create_app
from tests.support.staff import add_account, csrf_token, login

App = TestClient[Any, Any]
HOURS = '"{""mon"": [""09:00"", ""18:00""], ""tue"": [""09:00"", ""18:00""], ""wed"": [""09:00"", ""18:00""],'
HOURS += ' ""thu"": [""09:00"", ""18:00""], ""fri"": [""09:00"", ""18:00""], ""sat"": [""09:00"", ""18:00""],'
HOURS += ' ""sun"": [""09:00"", ""18:00""]}"'
# Tiananmen 39.9087,116.3975. By hand: WF (王府井, ~1.4 km) < GM (国贸, ~6.9 km) < ZGC (中关村, ~11 km);
# Shanghai's XJH is ~1,070 km away.
CSV = (
    "code,kind,name,province,city,district,address,lat,lon,hours,services,capacity_per_slot\n"
    f"GM,centre,国贸店,北京市,北京市,朝阳区,建国门外大街1号,39.9088,116.4589,{HOURS},screen,1\n"
    f"WF,centre,王府井店,北京市,北京市,东城区,王府井大街88号,39.9146,116.4109,{HOURS},screen,2\n"
    f"ZGC,dropoff,中关村点,北京市,北京市,海淀区,中关村大街27号,39.9834,116.3160,{HOURS},mail_in,0\n"
    f"XJH,centre,徐家汇店,上海市,上海市,徐汇区,漕溪北路1号,31.1950,121.4374,{HOURS},screen,1\n"
)


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, settings: Settings, database_url: str) -> App:
    db = Database(database_url)
    try:
        await directory.upsert(db, directory.parse_text(CSV, json_format=False))
        await slots.ensure(db, days=3)
    finally:
        await db.close()
    client: App = await aiohttp_client(create_app(settings.replace(database_pool_max=4)))
    return client


async def _codes(app: App, query: str) -> list[str]:
    response = await app.get(f"/api/centres?{query}")
    assert response.status == 200, await response.text()
    return [r["code"] for r in (await response.json())["results"]]


async def test_finder_by_city_or_district_in_chinese_and_pinyin_and_nearest_by_hand(app: App) -> None:
    assert await _codes(app, "q=北京") == ["GM", "WF", "ZGC"]  # centres first, then drop-offs
    assert await _codes(app, "q=beijing") == await _codes(app, "q=Bei Jing Shi")
    for typed in ("朝阳", "朝阳区", "chaoyang", "Chao Yang Qu", "北京 朝阳"):
        assert await _codes(app, f"q={typed}") == ["GM"], typed
    assert await _codes(app, "q=xuhui&kind=centre") == ["XJH"]
    assert await _codes(app, "q=上海 朝阳") == []
    assert await _codes(app, "lat=39.9087&lon=116.3975&limit=4") == ["WF", "GM", "ZGC", "XJH"]
    assert await _codes(app, "lat=31.2&lon=121.44&limit=1") == ["XJH"]
    body = await (await app.get("/api/centres?lat=39.9087&lon=116.3975&limit=2")).json()
    first = body["results"][0]
    assert 1.0 < first["distance_km"] < 2.0 and first["hours"]["mon"] == [["09:00", "18:00"]]
    assert len(first["next_slots"]) == 3 and first["next_slots"][0]["free"] == 2
    for bad in ("", "q=", "lat=91&lon=0", "lat=x&lon=1", "q=北京&kind=kiosk"):
        assert (await app.get(f"/api/centres?{bad}")).status == 400, bad


async def _ticket_in_call(app: App, redis: Redis, settings: Settings, serial: str) -> str:
    account = await add_account(settings, redis, "ana", role=Role.AGENT, languages=("ASL",))
    queue = app.app[keys.QUEUE]
    await queue.agent_login(account.username, account.languages, account.topics, name="Ana", ready=True)
    response = await app.post(
        "/api/tickets",
        json={"language": "ASL", "topic": "phone", "device_model": "P60", "device_serial": serial},
    )
    ticket = await response.json()
    agent = await queue.get_agent("ana")
    assert agent.offer_id is not None
    await queue.accept("ana", agent.offer_id)
    return str(ticket["ticket_id"])


async def test_agent_opens_a_case_from_the_ticket_books_and_the_customer_sees_it(
    app: App, redis: Redis, settings: Settings
) -> None:
    ticket_id = await _ticket_in_call(app, redis, settings, "SN-77")
    assert (await app.post("/api/cases", json={"ticket_id": ticket_id})).status == 401
    assert (await login(app)).status == 303
    headers = {"X-CSRF-Token": await csrf_token(app)}
    opened = await app.post(
        "/api/cases",
        json={"ticket_id": ticket_id, "category": "screen", "outcome": "centre", "description": "cracked"},
        headers=headers,
    )
    assert opened.status == 201, await opened.text()
    case = await opened.json()
    assert (case["device_model"], case["serial"], case["topic"], case["status"]) == (
        "P60",
        "SN-77",
        "phone",
        "opened",
    )
    number = case["number"]
    for bad in ({"category": "teeth", "outcome": "centre"}, {"category": "screen", "outcome": "maybe"}):
        assert (
            await app.post("/api/cases", json={"ticket_id": ticket_id, **bad}, headers=headers)
        ).status == 400

    found = await (await app.get("/api/centres?q=东城")).json()
    slot = found["results"][0]["next_slots"][0]
    booked = await app.post(f"/api/cases/{number}/booking", json={"slot_id": slot["id"]}, headers=headers)
    assert booked.status == 200, await booked.text()
    view = await booked.json()
    assert view["status"] == "booked" and view["booking"]["centre"]["code"] == "WF"
    assert view["booking"]["starts_at"] == slot["starts_at"]

    mine = await app.get(f"/api/mycase/{case['case_url'].rsplit('/', 1)[1]}")
    assert mine.status == 200
    seen = await mine.json()
    assert seen["booking"]["centre"]["address"] == "王府井大街88号" and "agent" not in seen
    assert [e["status"] for e in seen["history"]] == ["opened", "booked"]
    ics = await app.get(f"{case['case_url']}/booking.ics")
    assert ics.status == 200 and ics.content_type == "text/calendar"
    event = Calendar.from_ical(await ics.read()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime.fromisoformat(slot["starts_at"].replace("Z", "+00:00"))
    assert "王府井大街88号" in str(event.get("location")) and number in str(event.get("summary"))
    assert (await app.get(f"/api/mycase/{'q' * 43}")).status == 404

    # mail-in replaces the centre booking and gives the place back
    start = datetime.now(UTC) + timedelta(days=1)
    mail = {
        "kind": "mail_in",
        "pickup_from": start.isoformat(),
        "pickup_until": (start + timedelta(hours=4)).isoformat(),
        "pickup_address": "北京市东城区某街1号",
        "shipping_ref": "SF123",
    }
    too_long = {**mail, "pickup_until": (start + timedelta(hours=13)).isoformat()}
    assert (await app.post(f"/api/cases/{number}/booking", json=too_long, headers=headers)).status == 400
    moved = await (await app.post(f"/api/cases/{number}/booking", json=mail, headers=headers)).json()
    assert moved["booking"]["kind"] == "mail_in" and moved["booking"]["shipping_ref"] == "SF123"
    again = await (await app.get("/api/centres?q=东城")).json()
    assert again["results"][0]["next_slots"][0] == slot  # free again: 2 of 2
    cancelled = await app.delete(f"/api/cases/{number}/booking", headers=headers)
    assert (await cancelled.json())["booking"] is None


async def test_another_agent_may_not_open_the_ticket_s_case(
    app: App, redis: Redis, settings: Settings
) -> None:
    ticket_id = await _ticket_in_call(app, redis, settings, "SN-1")
    await add_account(settings, redis, "bo", role=Role.AGENT, languages=("ASL",))
    await login(app, "bo")
    headers = {"X-CSRF-Token": await csrf_token(app)}
    body = {"ticket_id": ticket_id, "category": "screen", "outcome": "centre"}
    assert (await app.post("/api/cases", json=body, headers=headers)).status == 403


async def test_the_last_place_of_a_slot_booked_from_two_connections_at_once_goes_to_one(
    app: App, redis: Redis, settings: Settings
) -> None:
    ticket_id = await _ticket_in_call(app, redis, settings, "")
    await login(app)
    headers = {"X-CSRF-Token": await csrf_token(app)}
    numbers = []
    for _ in range(2):
        body = {"ticket_id": ticket_id, "category": "screen", "outcome": "centre"}
        numbers.append((await (await app.post("/api/cases", json=body, headers=headers)).json())["number"])
    slot = (await (await app.get("/api/centres?q=朝阳")).json())["results"][0]["next_slots"][0]
    assert slot["free"] == 1
    # two requests in flight at once take two pooled connections: the UPDATE decides
    responses = await asyncio.gather(
        *(app.post(f"/api/cases/{n}/booking", json={"slot_id": slot["id"]}, headers=headers) for n in numbers)
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409]
    loser = next(r for r in responses if r.status == 409)
    assert (await loser.json())["error"] == "slot_full"
    db = app.app[keys.DATABASE]
    row = await db.fetchrow("SELECT booked, capacity FROM slots WHERE id = $1", slot["id"])
    assert row is not None and (row["booked"], row["capacity"]) == (1, 1)
    active = await db.fetchrow("SELECT count(*) AS n FROM bookings WHERE state = 'active'")
    assert active is not None and active["n"] == 1
