"""`signlink centres import FILE | sample [--out FILE] [--if-empty]`: load the service-centre directory
(docs/operations.md, "Service-centre directory"). Import is one transaction: a bad row names its line
and nothing is written; importing the same file again changes nothing. Slots follow the hours."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

import asyncpg

from signlink.cases import directory, sample, slots
from signlink.config import Settings
from signlink.db import schema
from signlink.db.database import Database


def add_parser(commands: Any) -> None:
    centres = commands.add_parser(
        "centres", help="the service-centre directory: import a file, or the sample"
    )
    actions = centres.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="import (or update) centres from a .csv or .json file")
    load.add_argument("file", type=Path)
    made = actions.add_parser(
        "sample", help="the generated SAMPLE directory (2,400 centres, 20,000 drop-offs)"
    )
    made.add_argument("--out", type=Path, help="write it as CSV to this file instead of importing it")
    made.add_argument("--if-empty", action="store_true", help="import only into an empty directory")


async def _require_schema(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await schema.require_current(conn)
    finally:
        await conn.close()


async def _import(url: str, centres: list[directory.Centre], source: str, *, if_empty: bool) -> int:
    await _require_schema(url)
    db = Database(url)
    try:
        if if_empty and await db.fetchrow("SELECT 1 FROM centres LIMIT 1") is not None:
            print("the directory has centres already: sample not imported")
            return 0
        result = await directory.upsert(db, centres)
        made = await slots.ensure(db)
    finally:
        await db.close()
    print(
        f"{source}: {result.rows} rows, {result.inserted} new, {result.updated} changed,"
        f" {result.unchanged} unchanged; {made} new slots"
    )
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "sample" and args.out is not None:
        args.out.write_text(sample.as_csv(), encoding="utf-8")
        print(f"wrote {sample.CENTRES} centres and {sample.DROPOFFS} drop-off points to {args.out}")
        return 0
    # Parse before touching the database: a bad file fails fast, with its line, and writes nothing.
    if args.action == "import":
        centres, source, if_empty = directory.parse_file(args.file), str(args.file), False
    else:
        centres = directory.parse_text(sample.as_csv(), json_format=False)
        source, if_empty = "sample", args.if_empty
    with contextlib.ExitStack() as stack:
        url = settings.database_url
        if not url:
            from signlink.db.locate import resolve

            url = resolve(settings.database_name, settings.data_dir, stack)
        return asyncio.run(_import(url, centres, source, if_empty=if_empty))
