"""The centre finder over the SAMPLE directory (22,400 places, ~230k slots) on a private postgres:
p50/p95/p99 of a city search and a nearest search (each with its next free slots) beside a bare
indexed SELECT on the same server and connection pool. JSON last.

    scripts/loopback-only .venv/bin/python -m benchmarks.finder [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.common import require_loopback_only
from signlink.cases import directory, finder, sample, slots
from signlink.cases.sample_places import PLACES
from signlink.db.database import Database
from tests.support.pg_proc import PostgresProcess


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100)
    return {"p50_ms": round(q[49] * 1e3, 3), "p95_ms": round(q[94] * 1e3, 3), "p99_ms": round(q[98] * 1e3, 3)}


async def _time(runs: int, step: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    for i in range(20):  # warm the pool and the plan cache
        await step(i)
    took = []
    for i in range(runs):
        start = time.perf_counter()
        await step(i)
        took.append(time.perf_counter() - start)
    return _figures(took)


async def main(runs: int) -> dict[str, Any]:
    pg = PostgresProcess()
    await pg.start_async()
    url = await pg.fresh_database()
    db = Database(url, max_size=2)
    rng = random.Random(1)
    try:
        began = time.perf_counter()
        result = await directory.upsert(db, directory.parse_text(sample.as_csv(), json_format=False))
        made = await slots.ensure(db)
        load_s = time.perf_counter() - began
        async with db.connection() as conn:
            await conn.execute("VACUUM ANALYZE")
        print(f"loaded {result.rows} places and {made} slots in {load_s:.1f} s", flush=True)
        cities = [p[1] for p in PLACES]
        keys = [directory.place_key(c) for c in cities]
        spots = [(p[2] + rng.uniform(-0.05, 0.05), p[3] + rng.uniform(-0.05, 0.05)) for p in PLACES]

        async def bare(i: int) -> object:
            return await db.fetch(
                "SELECT code, name, address FROM centres WHERE city_pinyin = $1 ORDER BY kind, code LIMIT 10",
                keys[i % len(keys)],
            )

        figures = {
            "bare_indexed_select": await _time(runs, bare),
            "city_search": await _time(runs, lambda i: finder.by_place(db, cities[i % len(cities)])),
            "pinyin_search": await _time(runs, lambda i: finder.by_place(db, keys[i % len(keys)])),
            "nearest_search": await _time(runs, lambda i: finder.nearest(db, *spots[i % len(spots)])),
        }
    finally:
        await db.close()
        pg.remove()
    base = figures["bare_indexed_select"]["p50_ms"]
    for name, shown in figures.items():
        print(
            f"{name:22} p50 {shown['p50_ms']:7.3f} ms  p95 {shown['p95_ms']:7.3f}  p99 {shown['p99_ms']:7.3f}"
        )
    ratios = {
        f"{k}_p50_vs_bare": round(v["p50_ms"] / base, 2)
        for k, v in figures.items()
        if k != "bare_indexed_select"
    }
    return {
        "benchmark": "finder",
        "runs": runs,
        "places": result.rows,
        "slots": made,
        **figures,
        "ratios": ratios,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    require_loopback_only()
    print(json.dumps(asyncio.run(main(args.runs)), separators=(",", ":")))


if __name__ == "__main__":
    cli()
