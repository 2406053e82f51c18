"""A relay killed mid-batch loses nothing, keeps order per key; copies are ignored."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from baiying_shared.db import inbox, outbox
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.envelope import Envelope, Payload, event, wrap
from baiying_shared.handlers import route
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from tests.shared.support import consuming
from tests.support import eventually

TOPIC = "registry.teams.v1"  # any catalogue topic works; the prefix isolates this test
KEYS = 20
PER_KEY = 60


@event("test.counter", 1)
class Counter(Payload):
    key: str
    seq: int


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    schema = f"ob_{unique}"
    await migrate(
        common_settings.database_url.get_secret_value(), schema=schema, package="baiying_shared.db"
    )
    p = await create_pool(common_settings, schema=schema)
    await p.execute("CREATE TABLE seen (event_id uuid, key text, seq int, n bigserial)")
    yield p
    await p.close()


def _relay(settings: CommonSettings, schema: str, kill_after: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BAIYING_DATABASE_URL": settings.database_url.get_secret_value(),
        "BAIYING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "BAIYING_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.shared.relay_proc", schema, str(kill_after)], env=env
    )


async def _raw_count(settings: CommonSettings) -> int:
    consumer = AIOKafkaConsumer(
        settings.topic(TOPIC),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        parts = consumer.assignment()
        ends = await consumer.end_offsets(list(parts))
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_relay_killed_mid_batch_loses_nothing_and_keeps_order(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    settings, schema = common_settings, f"ob_{unique}"
    await ensure_topics(settings)
    total = KEYS * PER_KEY
    async with pool.acquire() as conn, conn.transaction():
        rows: list[tuple[str, str, Envelope[Any] | None]] = [
            (TOPIC, f"k{k}", wrap(Counter(key=f"k{k}", seq=s), producer="test"))
            for s in range(PER_KEY)
            for k in range(KEYS)
        ]
        await outbox.add_many(conn, rows)

    # First life: dies by SIGKILL after 290 acknowledged sends (inside the second batch of 200).
    first = _relay(settings, schema, kill_after=290)
    assert await asyncio.to_thread(first.wait, 60) == -9
    published = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
    assert published == 200, "the first batch was marked, the second was published but not marked"

    second = _relay(settings, schema, kill_after=0)
    try:
        await eventually(
            lambda: _all_published(pool, total), timeout=60, what="every outbox row published"
        )
    finally:
        second.kill()
        second.wait(10)
    assert await _raw_count(settings) > total, "the killed batch must have been sent twice"

    dlq = make_producer(settings, client_id="t")
    await dlq.start()

    async def record(env: Envelope[Any]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            if await inbox.claim(conn, event_id=env.event_id, consumer="test"):
                p = env.payload
                await conn.execute(
                    "INSERT INTO seen (event_id, key, seq) VALUES ($1,$2,$3)",
                    env.event_id,
                    p.key,
                    p.seq,
                )

    try:
        async with consuming(settings, TOPIC, group=f"g{unique}", dead_letters=dlq,
                             handle=route({Counter: record})):
            await eventually(
                lambda: pool.fetchval("SELECT count(*) = $1 FROM seen", total),
                timeout=60,
                what="all consumed",
            )
    finally:
        await dlq.stop()

    seen = await pool.fetch("SELECT key, seq, event_id FROM seen ORDER BY n")
    assert len({r["event_id"] for r in seen}) == total == len(seen)
    per_key: dict[str, list[int]] = defaultdict(list)
    for r in seen:
        per_key[r["key"]].append(r["seq"])
    assert all(seqs == list(range(PER_KEY)) for seqs in per_key.values()), "order per key broken"


async def _all_published(pool: asyncpg.Pool[Any], total: int) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT count(*) = $1 FROM outbox WHERE published_at IS NOT NULL", total
        )
    )

