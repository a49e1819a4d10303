"""The service-centre directory file: parse CSV or JSON rows into centres, and upsert them in one transaction.

A bad row stops the whole import with an error naming its line (CSV line, or JSON array index + 1);
nothing is written unless every row is good. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pypinyin import lazy_pinyin

from signlink.db.database import Database
from signlink.errors import BadRequest

KINDS = ("centre", "dropoff")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
REQUIRED = ("code", "kind", "name", "province", "city", "address", "lat", "lon")


class ImportError_(BadRequest):
    """A directory file row that cannot be imported (the message names the line)."""


@dataclass(frozen=True)
class Centre:
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
    capacity_per_slot: int
    sample: bool


# Administrative suffixes a customer may leave out ("朝阳" for 朝阳区), longest first.
SUFFIXES = ("自治州", "新区", "地区", "市", "区", "县")


def place_key(name: str) -> str:
    """What the finder matches: the pinyin of a place name without its suffix ("朝阳区" -> "chaoyang").

    Read from the whole name, then the suffix's syllables dropped: 朝 reads "chao" in 朝阳区, "zhao" alone.
    """
    name = name.strip()
    syllables = _syllables(name)
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            syllables = syllables[: -len(suffix)]
            break
    return "".join(syllables)


@functools.lru_cache(maxsize=4096)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s.lower().replace(" ", "") for s in lazy_pinyin(text))


@functools.lru_cache(maxsize=4096)  # a directory names a few hundred places thousands of times
def pinyin(text: str) -> str:
    """Lower-case toneless pinyin without spaces ("朝阳区" -> "chaoyangqu"); ASCII stays as typed."""
    return "".join(lazy_pinyin(text)).lower().replace(" ", "")


def parse_hours(value: Any) -> dict[str, list[list[str]]]:
    """{weekday: [open, close]} or {weekday: [[open, close], ...]}; weekdays mon..sun, times HH:MM."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("hours must be an object {weekday: [open, close]}")
    out: dict[str, list[list[str]]] = {}
    for day, given in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"hours: unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        spans = [given] if given and isinstance(given[0], str) else given
        clean = []
        for span in spans:
            if len(span) != 2 or not all(isinstance(t, str) and _HHMM.fullmatch(t) for t in span):
                raise ValueError(f'hours: {day} needs ["HH:MM", "HH:MM"], got {span!r}')
            if span[0] >= span[1]:
                raise ValueError(f"hours: {day} opens at {span[0]} but closes at {span[1]}")
            clean.append([span[0], span[1]])
        out[day] = clean
    return out


def parse_row(row: dict[str, Any]) -> Centre:
    """One row (CSV strings or JSON values) as a Centre; ValueError says what is wrong."""
    missing = [k for k in REQUIRED if row.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    kind = str(row["kind"])
    if kind not in KINDS:
        raise ValueError(f"kind must be centre or dropoff, got {kind!r}")
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (TypeError, ValueError):
        raise ValueError("lat and lon must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"position {lat},{lon} is outside the globe")
    tz = str(row.get("tz") or "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None
    services = row.get("services") or []
    if isinstance(services, str):
        services = [s.strip() for s in services.split("|") if s.strip()]
    try:
        capacity = int(row.get("capacity_per_slot") or 1)
    except (TypeError, ValueError):
        raise ValueError("capacity_per_slot must be a whole number") from None
    if not 0 <= capacity <= 1000:
        raise ValueError("capacity_per_slot must be 0..1000")
    sample = str(row.get("sample", "")).lower() in ("1", "true", "yes")
    return Centre(
        code=str(row["code"]).strip(),
        kind=kind,
        name=str(row["name"]).strip(),
        province=str(row["province"]).strip(),
        city=str(row["city"]).strip(),
        district=str(row.get("district") or "").strip(),
        address=str(row["address"]).strip(),
        lat=lat,
        lon=lon,
        tz=tz,
        hours=parse_hours(row.get("hours") or {}),
        services=tuple(str(s) for s in services),
        capacity_per_slot=capacity,
        sample=sample,
    )


def parse_file(path: Path) -> list[Centre]:
    """Every row of a .csv or .json directory file; the first bad row raises ImportError_ with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportError_(f"cannot read {path}: {exc}", code="bad_file") from None
    return parse_text(text, json_format=path.suffix.lower() == ".json" or text.lstrip().startswith("["))


def parse_text(text: str, *, json_format: bool) -> list[Centre]:
    rows: list[tuple[int, dict[str, Any]]]
    if json_format:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportError_(f"not valid JSON: {exc}", code="bad_file") from None
        if not isinstance(data, list):
            raise ImportError_("a JSON directory file is an array of centre objects", code="bad_file")
        rows = [(i + 1, r if isinstance(r, dict) else {}) for i, r in enumerate(data)]
        where = "item"
    else:
        reader = csv.DictReader(io.StringIO(text))
        rows = [(reader.line_num, dict(r)) for r in reader]
        where = "line"
    seen: dict[str, int] = {}
    out = []
    for line, row in rows:
        try:
            centre = parse_row(row)
        except ValueError as exc:
            raise ImportError_(f"{where} {line}: {exc}", code="bad_row") from None
        if centre.code in seen:
            raise ImportError_(
                f"{where} {line}: code {centre.code!r} already on {where} {seen[centre.code]}", code="bad_row"
            )
        seen[centre.code] = line
        out.append(centre)
    return out


@dataclass(frozen=True)
class ImportResult:
    rows: int
    inserted: int
    updated: int
    unchanged: int


_UPSERT = """
INSERT INTO centres AS c (code, kind, name, province, city, district, address, city_pinyin,
    district_pinyin, lat, lon, tz, hours, services, capacity_per_slot, sample)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[], $13::jsonb[], $14::text[],
    $15::int2[], $16::bool[])
ON CONFLICT (code) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
    province = EXCLUDED.province, city = EXCLUDED.city, district = EXCLUDED.district,
    address = EXCLUDED.address, city_pinyin = EXCLUDED.city_pinyin,
    district_pinyin = EXCLUDED.district_pinyin, lat = EXCLUDED.lat, lon = EXCLUDED.lon, tz = EXCLUDED.tz,
    hours = EXCLUDED.hours, services = EXCLUDED.services, capacity_per_slot = EXCLUDED.capacity_per_slot,
    sample = EXCLUDED.sample, updated_at = now()
WHERE (c.kind, c.name, c.province, c.city, c.district, c.address, c.lat, c.lon, c.tz, c.hours,
    c.services, c.capacity_per_slot, c.sample)
   IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.name, EXCLUDED.province, EXCLUDED.city, EXCLUDED.district,
    EXCLUDED.address, EXCLUDED.lat, EXCLUDED.lon, EXCLUDED.tz, EXCLUDED.hours, EXCLUDED.services,
    EXCLUDED.capacity_per_slot, EXCLUDED.sample)
RETURNING (xmax = 0) AS inserted
"""


async def upsert(db: Database, centres: list[Centre]) -> ImportResult:
    """Insert new centres, update changed ones, leave identical ones alone: all in one transaction."""
    # services as one '|'-joined text per row: unnest cannot take a ragged text[][]
    cols: list[list[Any]] = [[] for _ in range(16)]
    for c in centres:
        values = (
            c.code,
            c.kind,
            c.name,
            c.province,
            c.city,
            c.district,
            c.address,
            place_key(c.city),
            place_key(c.district),
            c.lat,
            c.lon,
            c.tz,
            c.hours,  # the pool's jsonb codec encodes it
            "|".join(c.services),
            c.capacity_per_slot,
            c.sample,
        )
        for col, v in zip(cols, values, strict=True):
            col.append(v)
    sql = (
        _UPSERT.replace("$14::text[]", "$14::text[]")
        .replace(
            "SELECT * FROM unnest(",
            "SELECT code, kind, name, province, city, district, address, cp, dp, lat, lon, tz, hours,"
            " string_to_array(sv, '|'), cap, sample FROM unnest(",
        )
        .replace(
            "$15::int2[], $16::bool[])",
            "$15::int2[], $16::bool[]) AS u(code, kind, name, province, city, district, address, cp, dp,"
            " lat, lon, tz, hours, sv, cap, sample)",
        )
    )
    async with db.transaction() as conn:
        rows = await conn.fetch(sql, *cols)
    inserted = sum(1 for r in rows if r["inserted"])
    return ImportResult(len(centres), inserted, len(rows) - inserted, len(centres) - len(rows))
