"""A notifier schema of a test's own (migrated) and a pool on it, for tests below the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.settings import CommonSettings


@asynccontextmanager
async def schema_pool(settings: CommonSettings, schema: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    await migrate(settings.database_url.get_secret_value(), schema=schema,
                  package="baiying_notifier")  # fmt: skip
    pool = await create_pool(settings, schema=schema)
    try:
        yield pool
    finally:
        await pool.close()
