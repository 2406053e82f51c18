"""Migrations apply once; applying them again changes nothing."""

from __future__ import annotations

import asyncpg

from baiying_shared.db.migrate import migrate


async def _snapshot(url: str, schema: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = $1 ORDER BY 1, 2",
            schema,
        )
        return [(r[0], r[1]) for r in rows]
    finally:
        await conn.close()


async def test_migrations_twice_change_nothing(database_url: str, unique: str) -> None:
    schema = f"m_{unique}"
    first = await migrate(database_url, schema=schema, package="tests.fixtures_pkg")
    assert first == ["0000_outbox_inbox", "0001_things"]
    before = await _snapshot(database_url, schema)
    assert (
        ("things", "place") in before
        and ("outbox", "event_id") in before
        and ("processed_events", "event_id") in before
    )

    second = await migrate(database_url, schema=schema, package="tests.fixtures_pkg")
    assert second == []
    assert await _snapshot(database_url, schema) == before
