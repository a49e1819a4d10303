"""`signlink centres import | sample` against a real PostgreSQL: the whole sample, a re-import that
changes nothing, and a malformed file that names its line and leaves the directory as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from signlink import cli
from signlink.cases import sample


async def _counts(url: str) -> tuple[int, int, int, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE kind = 'centre') AS c,"
            " count(*) FILTER (WHERE kind = 'dropoff') AS d,"
            " count(*) FILTER (WHERE sample AND code LIKE 'SAMPLE-%' AND name LIKE '%（样例）') AS marked,"
            " count(DISTINCT province) AS provinces FROM centres"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["c"], row["d"], row["marked"], row["provinces"]


def test_sample_imports_whole_then_again_unchanged_and_a_bad_file_writes_nothing(
    fresh_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SIGNLINK_DATABASE_URL", fresh_database_url)
    assert cli.main(["centres", "sample", "--if-empty"]) == 0
    assert "22400 new" in capsys.readouterr().out
    assert asyncio.run(_counts(fresh_database_url)) == (2400, 20000, 22400, 31)

    assert cli.main(["centres", "sample", "--if-empty"]) == 0
    assert "not imported" in capsys.readouterr().out

    written = tmp_path / "sample.csv"
    assert cli.main(["centres", "sample", "--out", str(written)]) == 0
    assert cli.main(["centres", "import", str(written)]) == 0
    assert "0 new, 0 changed, 22400 unchanged; 0 new slots" in capsys.readouterr().out

    # a good change on line 2 and a bad row on line 5: neither is written
    lines = written.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("（样例）", "（样例，改）")
    lines[4] = lines[4].replace(",centre,", ",kiosk,")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli.main(["centres", "import", str(bad)]) == 2
    assert "line 5: kind must be centre or dropoff" in capsys.readouterr().err
    assert asyncio.run(_counts(fresh_database_url)) == (2400, 20000, 22400, 31)


def test_sample_is_the_same_every_time_and_spreads_over_real_cities() -> None:
    rows = sample.rows()
    assert rows == sample.rows()
    cities = {r["city"] for r in rows if r["kind"] == "centre"}
    assert {"北京市", "上海市", "广州市", "成都市", "拉萨市", "乌鲁木齐市"} <= cities
    assert len({r["code"] for r in rows}) == len(rows) == 22_400
