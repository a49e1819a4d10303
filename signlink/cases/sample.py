"""The generated SAMPLE directory: 2,400 service centres and 20,000 drop-off points over real Chinese
provinces and cities (signlink/cases/sample_places.py), made the same every time from one seed.

Every row is marked as sample data three ways: `sample` true, a code starting "SAMPLE-", and "（样例）"
in its name. Positions are near the real city centres; streets and numbers are invented.
`signlink centres sample` writes or imports it; `make run` imports it into an empty directory.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random

from signlink.cases.sample_places import PLACES, ROADS

CENTRES = 2_400
DROPOFFS = 20_000
SEED = 13
SERVICES = ("screen", "battery", "camera", "charging", "water", "software")
FIELDS = (
    "code",
    "kind",
    "name",
    "province",
    "city",
    "district",
    "address",
    "lat",
    "lon",
    "tz",
    "hours",
    "services",
    "capacity_per_slot",
    "sample",
)
_WEEK = ("mon", "tue", "wed", "thu", "fri")
_CENTRE_HOURS = {**{d: ["09:00", "18:00"] for d in _WEEK}, "sat": ["10:00", "17:00"]}
_DROPOFF_HOURS = {d: ["08:00", "21:00"] for d in (*_WEEK, "sat", "sun")}


def _share(total: int) -> list[int]:
    """`total` split over the places by weight (largest remainders), every place at least one."""
    weights = [p[4] for p in PLACES]
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [max(1, math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:  # only if the minimum of one pushed it over
        biggest = max(range(len(counts)), key=lambda k: counts[k])
        counts[biggest] -= 1
    return counts


def rows() -> list[dict[str, str]]:
    """Every sample row as CSV-ready strings: centres first, then drop-off points."""
    rng = random.Random(SEED)
    out: list[dict[str, str]] = []
    for kind, total in (("centre", CENTRES), ("dropoff", DROPOFFS)):
        for place, count in zip(PLACES, _share(total), strict=True):
            province, city, lat, lon, _weight, districts = place
            for n in range(count):
                district = districts[n % len(districts)] if districts else "市辖区"
                # within ~12 km of the centre: 0.1 degree of latitude is ~11 km
                dlat, dlon = rng.uniform(-0.1, 0.1), rng.uniform(-0.12, 0.12)
                road = rng.choice(ROADS)
                number = rng.randint(1, 999)
                code = f"SAMPLE-{'C' if kind == 'centre' else 'D'}{len(out) + 1:05d}"
                label = "授权服务中心" if kind == "centre" else "收寄点"
                shown_district = "" if district == "市辖区" else district
                services = (
                    sorted(rng.sample(SERVICES, rng.randint(3, len(SERVICES))))
                    if kind == "centre"
                    else ["mail_in"]
                )
                out.append(
                    {
                        "code": code,
                        "kind": kind,
                        "name": f"{city.removesuffix('市')}{shown_district}{label}{n + 1}号（样例）",
                        "province": province,
                        "city": city,
                        "district": district,
                        "address": f"{province}{'' if province == city else city}{shown_district}"
                        f"{road}{number}号",
                        "lat": f"{lat + dlat:.5f}",
                        "lon": f"{lon + dlon:.5f}",
                        "tz": "Asia/Shanghai",  # Beijing time is official everywhere in China
                        "hours": json.dumps(_CENTRE_HOURS if kind == "centre" else _DROPOFF_HOURS),
                        "services": "|".join(services),
                        "capacity_per_slot": str(rng.randint(1, 4) if kind == "centre" else 0),
                        "sample": "true",
                    }
                )
    return out


def as_csv() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())
    return buffer.getvalue()
