"""The centre finder: by city or district typed in Chinese or pinyin, or nearest to a shared position;
each result with its distance, hours and next free slots. Plain lists: no map tiles from anywhere.

Names match whole, with or without their suffix: "朝阳", "朝阳区", "chaoyang", "Chao Yang Qu" all find
朝阳区; "北京 朝阳" (city, then district) narrows to one city. Stored keys are the pinyin of the name
without its suffix (directory.place_key).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signlink.cases.directory import KINDS, SUFFIXES, place_key
from signlink.db.database import Database
from signlink.errors import BadRequest

MAX_RESULTS = 50
SLOTS_SHOWN = 3
QUERY_MAX_CHARS = 40
_PINYIN_SUFFIXES = ("xinqu", "zizhizhou", "diqu", "shi", "qu", "xian")
_SPLIT = re.compile(r"[\s,，、·]+")
_NOT_PINYIN = re.compile(r"[^a-zü]")
_EARTH_KM = 6371.0
_DISTANCE = (
    f"2 * {_EARTH_KM} * asin(sqrt(power(sin(radians(c.lat - $1) / 2), 2)"
    " + cos(radians($1)) * cos(radians(c.lat)) * power(sin(radians(c.lon - $2) / 2), 2)))"
)
_COLUMNS = "c.code, c.kind, c.name, c.province, c.city, c.district, c.address, c.lat, c.lon, c.tz,"
_COLUMNS += " c.hours, c.services, c.sample"


@dataclass(frozen=True)
class FreeSlot:
    id: int
    starts_at: datetime
    ends_at: datetime
    free: int


@dataclass(frozen=True)
class Found:
    code: str
    kind: str
    name: str
    province: str
    city: str
    district: str
    address: str
    lat: float
    lon: float
    tz: str
    hours: dict[str, list[list[str]]]
    services: tuple[str, ...]
    sample: bool
    distance_km: float | None
    next_slots: tuple[FreeSlot, ...]


def keys_of(text: str) -> tuple[str, ...]:
    """The place keys one typed name may mean: its pinyin without suffix, Chinese or Latin input."""
    text = text.strip().lower()
    if not text:
        return ()
    if re.search(r"[\u3400-\u9fff]", text):
        # typed without its suffix, a name may read differently: 朝阳 alone is "zhaoyang"
        return tuple(dict.fromkeys(place_key(text + s) for s in ("", *SUFFIXES)))
    flat = _NOT_PINYIN.sub("", text.replace("v", "ü")).replace("ü", "v")
    out = [flat]
    for suffix in _PINYIN_SUFFIXES:
        if flat.endswith(suffix) and len(flat) > len(suffix) + 1:
            out.append(flat.removesuffix(suffix))
    return tuple(dict.fromkeys(out))


def _kind_filter(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}", code="bad_field")
    return kind


async def by_place(db: Database, query: str, *, kind: str | None = None, limit: int = 10) -> list[Found]:
    """Centres whose city or district is `query` ("city district" narrows); centres before drop-offs."""
    if not query.strip() or len(query) > QUERY_MAX_CHARS:
        raise BadRequest(f"q must be 1..{QUERY_MAX_CHARS} characters", code="bad_field")
    limit = max(1, min(limit, MAX_RESULTS))
    parts = [p for p in _SPLIT.split(query.strip()) if p]
    if len(parts) == 2 and re.search(r"[\u3400-\u9fff]", query):
        where = "c.city_pinyin = ANY($1::text[]) AND c.district_pinyin = ANY($2::text[])"
        args: list[Any] = [list(keys_of(parts[0])), list(keys_of(parts[1]))]
    else:
        where = "(c.city_pinyin = ANY($1::text[]) OR c.district_pinyin = ANY($1::text[]))"
        args = [list(keys_of(query))]
    kind = _kind_filter(kind)
    if kind is not None:
        args.append(kind)
        where += f" AND c.kind = ${len(args)}"
    args.append(limit)
    rows = await db.fetch(
        f"SELECT {_COLUMNS}, NULL::float8 AS distance_km FROM centres c WHERE {where}"
        f" ORDER BY c.kind, c.code LIMIT ${len(args)}",
        *args,
    )
    return await _with_slots(db, rows)


async def nearest(
    db: Database, lat: float, lon: float, *, kind: str | None = None, limit: int = 10
) -> list[Found]:
    """The `limit` nearest places to (lat, lon), nearest first: a bounding box that widens until full."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRequest("lat and lon must be a position on the globe", code="bad_field")
    limit = max(1, min(limit, MAX_RESULTS))
    kind = _kind_filter(kind)
    radius_deg = 0.2  # ~22 km of latitude
    while True:
        # longitude degrees shrink with latitude; the box is widened so it always holds the circle
        lon_deg = min(180.0, radius_deg / max(0.01, abs(_cos_deg(lat))))
        rows = await db.fetch(
            f"SELECT {_COLUMNS}, {_DISTANCE} AS distance_km FROM centres c"
            " WHERE c.lat BETWEEN $1 - $3 AND $1 + $3 AND c.lon BETWEEN $2 - $4 AND $2 + $4"
            " AND ($5::text IS NULL OR c.kind = $5)"
            f" ORDER BY distance_km, c.code LIMIT $6",
            lat,
            lon,
            radius_deg,
            lon_deg,
            kind,
            limit,
        )
        # rows beyond the inscribed circle may be out-ranked by places outside the box: widen
        inside = [r for r in rows if r["distance_km"] <= radius_deg * 111.0]
        if len(inside) >= limit or radius_deg >= 180:
            return await _with_slots(db, inside if len(inside) >= limit else rows)
        radius_deg *= 4


def _cos_deg(deg: float) -> float:
    return math.cos(math.radians(deg))


async def _with_slots(db: Database, rows: list[Any]) -> list[Found]:
    codes = [r["code"] for r in rows if r["kind"] == "centre"]
    slots: dict[str, list[FreeSlot]] = {code: [] for code in codes}
    if codes:
        for s in await db.fetch(
            "SELECT c.code, s.id, s.starts_at, s.ends_at, s.free FROM unnest($1::text[]) AS c(code)"
            " CROSS JOIN LATERAL (SELECT id, starts_at, ends_at, capacity - booked AS free FROM slots"
            "  WHERE centre_code = c.code AND booked < capacity AND starts_at > now()"
            "  ORDER BY starts_at LIMIT $2) AS s ORDER BY c.code, s.starts_at",
            codes,
            SLOTS_SHOWN,
        ):
            slots[s["code"]].append(FreeSlot(s["id"], s["starts_at"], s["ends_at"], s["free"]))
    return [
        Found(
            code=r["code"],
            kind=r["kind"],
            name=r["name"],
            province=r["province"],
            city=r["city"],
            district=r["district"],
            address=r["address"],
            lat=r["lat"],
            lon=r["lon"],
            tz=r["tz"],
            hours=r["hours"],
            services=tuple(r["services"]),
            sample=r["sample"],
            distance_km=None if r["distance_km"] is None else round(r["distance_km"], 2),
            next_slots=tuple(slots.get(r["code"], ())),
        )
        for r in rows
    ]
