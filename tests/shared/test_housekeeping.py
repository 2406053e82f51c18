"""Pruning removes old bookkeeping rows and nothing that is still needed."""

from __future__ import annotations

import uuid

from baiying_shared.db.housekeeping import COMMON, DAY_S, prune_once
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.settings import CommonSettings


async def test_prune_keeps_unpublished_and_recent_rows(
    common_settings: CommonSettings, unique: str
) -> None:
    schema = f"hk_{unique}"
    dsn = common_settings.database_url.get_secret_value()
    await migrate(dsn, schema=schema, package="baiying_shared.db")
    pool = await create_pool(common_settings, schema=schema)
    try:
        await pool.executemany(
            "INSERT INTO outbox (topic, key, value, published_at, created_at) VALUES"
            " ('t', $1, 'x', now() - make_interval(secs => $2), now() - interval '9 days')",
            [("old-published", 2 * 3600.0), ("fresh-published", 60.0)],
        )
        await pool.execute(
            "INSERT INTO outbox (topic, key, value, created_at)"
            " VALUES ('t', 'old-unpublished', 'x', now() - interval '9 days')"
        )
        await pool.executemany(
            "INSERT INTO processed_events (event_id, consumer, processed_at)"
            " VALUES ($1, 'c', now() - make_interval(secs => $2))",
            [(uuid.uuid4(), 9.0 * DAY_S), (uuid.uuid4(), 7.0 * DAY_S)],
        )

        assert await prune_once(pool, COMMON) == {"outbox": 1, "processed_events": 1}
        keys = {r["key"] for r in await pool.fetch("SELECT key FROM outbox")}
        assert keys == {"fresh-published", "old-unpublished"}
        assert await pool.fetchval("SELECT count(*) FROM processed_events") == 1
        assert await prune_once(pool, COMMON) == {"outbox": 0, "processed_events": 0}
    finally:
        await pool.close()
