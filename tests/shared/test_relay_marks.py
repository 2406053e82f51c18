"""The relay marks published rows on a session that does not wait for the marks' WAL flush;
that setting never reaches a writer's transaction on the same pool."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from baiying_shared.db import outbox
from baiying_shared.db.pool import create_pool
from baiying_shared.events.catalogue import URGENT
from baiying_shared.events.envelope import wrap
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from tests.shared import test_outbox
from tests.shared.test_outbox import TOPIC, Counter
from tests.support import eventually

pool = test_outbox.pool  # migrates a fresh outbox schema ob_<unique>


async def _marked(pool: asyncpg.Pool[Any], event_id: uuid.UUID) -> bool:
    return bool(await pool.fetchval(
        "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id))


async def test_the_relays_connection_comes_back_to_the_pool_flushing_commits(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    # One connection: the relay's session, then the writer's, is the same one.
    one = await create_pool(common_settings.model_copy(update={"db_pool_min": 1,
                            "db_pool_max": 1}), schema=f"ob_{unique}")  # fmt: skip
    await ensure_topics(common_settings)
    producer = make_producer(common_settings, client_id="marks-relay")
    await producer.start()
    relay = outbox.OutboxRelay(settings=common_settings, pool=one, producer=producer,
                               schema=f"ob_{unique}", idle_poll_s=600.0, lanes=(URGENT,))
    env = wrap(Counter(key="m", seq=0), producer="test")
    relay.start()
    try:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, topic=TOPIC, key="m", envelope=env)
        await eventually(lambda: _marked(pool, env.event_id), timeout=30, what="row marked")
    finally:
        await relay.stop()
        await producer.stop()
    try:
        async with one.acquire() as conn:  # the relay's own session, released and reset
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await one.close()
