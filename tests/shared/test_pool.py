"""The pool skips the reset round trip only for connections that left no session state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_shared.db.pool import create_pool
from baiying_shared.settings import CommonSettings


@pytest.fixture
async def one(common_settings: CommonSettings) -> AsyncIterator[asyncpg.Pool[Any]]:
    """A pool of exactly one connection: every acquire gets the one released before."""
    settings = common_settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1})
    pool = await create_pool(settings, schema="public")
    try:
        yield pool
    finally:
        await pool.close()


async def _last_query(dsn: str, pid: int) -> str:
    """What that backend ran last (pg_stat_activity), seen from another session."""
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await conn.close()


async def test_a_clean_connection_is_released_without_the_reset_query(
    one: asyncpg.Pool[Any], common_settings: CommonSettings
) -> None:
    dsn = common_settings.database_url.get_secret_value()
    async with one.acquire() as conn:
        pid = conn.get_server_pid()
        async with conn.transaction():
            await conn.execute("SELECT 1 AS plain_statement")
        await conn.fetchval("SELECT 2 AS last_plain_statement")
    assert "last_plain_statement" in await _last_query(dsn, pid)
    # The control: the same pool does run the reset after a session-level statement.
    async with one.acquire() as conn:
        await conn.execute("SET statement_timeout = '7s'")
    assert "RESET ALL" in await _last_query(dsn, pid)
    async with one.acquire() as conn:
        assert await conn.fetchval("SHOW statement_timeout") != "7s"


@pytest.mark.filterwarnings("ignore:.*active notification listener")  # left on purpose
async def test_session_advisory_locks_and_listens_are_released(
    one: asyncpg.Pool[Any], common_settings: CommonSettings
) -> None:
    assert await one.fetchval("SELECT pg_try_advisory_lock(424242)")
    other = await asyncpg.connect(common_settings.database_url.get_secret_value())
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock(424242)")  # released
        await other.execute("SELECT pg_advisory_unlock_all()")
    finally:
        await other.close()
    async with one.acquire() as conn:
        await conn.add_listener("pool_test_channel", lambda *_: None)
    async with one.acquire() as conn:
        listening = await conn.fetch("SELECT pg_listening_channels()")
        assert listening == []
