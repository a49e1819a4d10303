"""The schema's versions: `signlink db migrate` brings a new database up to date once; the service
refuses an unmigrated or a newer schema with a message that says what to do."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from signlink.cli import main
from signlink.config import Settings
from signlink.db import schema
from signlink.errors import ConfigError
from signlink.web.app import create_app
from tests.support.pg_proc import PostgresProcess


async def version_of(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await schema.current(conn)
    finally:
        await conn.close()


async def test_migrate_applies_every_step_once(pg_server: PostgresProcess) -> None:
    url = await pg_server.fresh_database(migrated=False)
    assert await version_of(url) == 0
    conn = await asyncpg.connect(url)
    try:
        assert [m.version for m in await schema.migrate(conn)] == list(range(1, schema.latest() + 1))
        assert await schema.migrate(conn) == []  # a second run changes nothing
        await schema.require_current(conn)
    finally:
        await conn.close()
    assert await version_of(url) == schema.latest()


def test_the_db_command_migrates_and_reports(
    pg_server: PostgresProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    url = asyncio.run(pg_server.fresh_database(migrated=False))
    monkeypatch.setenv("SIGNLINK_DATABASE_URL", url)
    assert main(["db", "status"]) == 1
    assert "needs `signlink db migrate`" in capsys.readouterr().out
    assert main(["db", "migrate"]) == 0
    assert "applied 001_records" in capsys.readouterr().out
    assert main(["db", "status"]) == 0


@pytest.mark.parametrize("newer", [False, True])
async def test_the_service_refuses_a_schema_that_is_not_its_own(
    pg_server: PostgresProcess, settings: Settings, newer: bool
) -> None:
    url = await pg_server.fresh_database(migrated=newer)
    if newer:
        conn = await asyncpg.connect(url)
        await conn.execute(
            "INSERT INTO schema_version (version, name) VALUES ($1, 'future')", schema.latest() + 1
        )
        await conn.close()
    server = TestServer(create_app(settings.replace(database_url=url)))
    with pytest.raises(
        ConfigError, match="newer than this signlink" if newer else "run `signlink db migrate`"
    ):
        await server.start_server()
    await server.close()
