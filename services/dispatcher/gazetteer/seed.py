"""`baiying seed ganzhou`: the dispatcher's synthetic gazetteer, every district, idempotent."""

from __future__ import annotations

from baiying_dispatcher.gazetteer import repo
from baiying_dispatcher.gazetteer.synth import all_districts
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.settings import CommonSettings


async def seed_gazetteer(settings: CommonSettings, *, per_district: int = 200) -> int:
    """Apply the dispatcher's migrations and upsert the synthetic addresses; returns the count."""
    await migrate(settings.database_url.get_secret_value(), schema="dispatcher",
                  package="baiying_dispatcher")
    pool = await create_pool(settings, schema="dispatcher")
    try:
        async with pool.acquire() as conn, conn.transaction():
            return await repo.upsert(conn, all_districts(count=per_district), source="synthetic")
    finally:
        await pool.close()
