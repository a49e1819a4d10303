"""Cases room against a real PostgreSQL: directory import, the last slot under contention, repeat links."""

from __future__ import annotations

import asyncio

import pytest

from signlink.cases import booking, directory
from signlink.cases.cases import NewCase, open_case
from signlink.db.database import Database
from signlink.errors import NotFound

CSV = (
    "code,kind,name,province,city,district,address,lat,lon,hours,services,capacity_per_slot\n"
    "A1,centre,朝阳店,北京市,北京市,朝阳区,建国路1号,39.91,116.46,"
    '"{""mon"": [""09:00"", ""18:00""]}",screen|battery,2\n'
    "B2,dropoff,徐汇点,上海市,上海市,徐汇区,漕溪北路2号,31.19,121.44,,,1\n"
)


async def test_import_then_reimport_unchanged_and_bad_row_named(database_url: str) -> None:
    db = Database(database_url)
    try:
        first = await directory.upsert(db, directory.parse_text(CSV, json_format=False))
        assert (first.inserted, first.updated) == (2, 0)
        again = await directory.upsert(db, directory.parse_text(CSV, json_format=False))
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        row = await db.fetchrow("SELECT city_pinyin, district_pinyin FROM centres WHERE code = 'A1'")
        assert row is not None and row["district_pinyin"] == "chaoyang"  # the key drops the suffix
        bad = CSV + "C3,centre,坏,北京市,北京市,,地址,999,116,,,1\n"
        with pytest.raises(directory.ImportError_, match="line 4"):
            directory.parse_text(bad, json_format=False)
    finally:
        await db.close()


async def test_last_slot_goes_to_exactly_one_of_many_pools_and_cancel_frees_it(database_url: str) -> None:
    setup = Database(database_url)
    dbs = [Database(database_url) for _ in range(4)]
    try:
        await directory.upsert(setup, directory.parse_text(CSV, json_format=False))
        slot = await setup.fetchrow(
            "INSERT INTO slots (centre_code, starts_at, ends_at, capacity)"
            " VALUES ('B2', now() + interval '1 day', now() + interval '25 hours', 1) RETURNING id"
        )
        assert slot is not None
        case_ids = []
        for i in range(8):
            opened = await open_case(setup, NewCase(f"t{i}", "screen", "centre"), ("screen",))
            case_ids.append(opened.id)
        results = await asyncio.gather(
            *(booking.book_slot(dbs[i % 4], cid, slot["id"]) for i, cid in enumerate(case_ids)),
            return_exceptions=True,
        )
        wins = [r for r in results if isinstance(r, int)]
        assert len(wins) == 1
        assert all(isinstance(r, booking.SlotFull) for r in results if not isinstance(r, int))
        winner = case_ids[results.index(wins[0])]
        await booking.cancel(setup, winner)
        freed = await setup.fetchrow("SELECT booked FROM slots WHERE id = $1", slot["id"])
        assert freed is not None and freed["booked"] == 0
        with pytest.raises(NotFound):
            await booking.cancel(setup, winner)
        assert isinstance(await booking.book_slot(setup, case_ids[0], slot["id"]), int)
    finally:
        for db in (setup, *dbs):
            await db.close()


async def test_repeat_contact_by_serial_links_to_the_earlier_case(database_url: str) -> None:
    db = Database(database_url)
    try:
        first = await open_case(db, NewCase("t1", "screen", "follow_up", serial="SN1"), ("screen",))
        second = await open_case(db, NewCase("t2", "screen", "centre", serial="SN1"), ("screen",))
        other = await open_case(db, NewCase("t3", "screen", "solved", serial="SN2"), ("screen",))
        assert first.repeat_of is None and second.repeat_of == first.id and other.repeat_of is None
        tickets = await db.fetch("SELECT ticket_id FROM case_tickets WHERE case_id = $1 ORDER BY 1", first.id)
        assert [r["ticket_id"] for r in tickets] == ["t1", "t2"]
        assert len(second.token) >= 43 and second.number.startswith("C-")
    finally:
        await db.close()
