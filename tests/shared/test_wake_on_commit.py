"""The raise-to-SMS path holds no polling interval: the relay wakes on a commit's NOTIFY and
a consumer's fetch returns when a record lands, not when its long poll runs out.

Both sides are configured with waits of minutes; each event must arrive well inside them.
The relay also says why it woke, so the test does not rest on timing alone.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import asyncpg

from baiying_shared.db import outbox
from baiying_shared.events.envelope import Envelope, encode, wrap
from baiying_shared.handlers import route
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from tests.shared import test_outbox
from tests.shared.test_outbox import TOPIC, Counter
from tests.support import eventually

SAFETY_POLL_S = 600.0  # the relay's idle poll: far beyond any test's patience
LONG_POLL_MS = 300_000  # the consumer's broker long poll and getmany timeout
pool = test_outbox.pool  # the same fixture: a fresh outbox schema ob_<unique>


def _event(seq: int) -> Envelope[Any]:
    return wrap(Counter(key="w", seq=seq), producer="test")


async def _published(pool: asyncpg.Pool[Any], event_id: uuid.UUID) -> bool:
    return bool(await pool.fetchval(
        "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id))


async def test_relay_publishes_on_commit_not_on_its_poll(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    settings = common_settings
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="wake-relay")
    await producer.start()
    relay = outbox.OutboxRelay(settings=settings, pool=pool, producer=producer,
                               schema=f"ob_{unique}", idle_poll_s=SAFETY_POLL_S)
    relay.start()
    try:
        for seq in range(3):  # the first also proves the relay is up and idle
            env = _event(seq)
            async with pool.acquire() as conn, conn.transaction():
                await outbox.add(conn, topic=TOPIC, key="w", envelope=env)
                assert not await _published(pool, env.event_id), "nothing leaves before commit"
            # A tenth of the safety poll at most: only the NOTIFY can have woken the relay.
            await eventually(partial(_published, pool, env.event_id), timeout=60,
                             what=f"event {seq} published")
        # Every idle wait that ended did so by NOTIFY; the safety poll never fired.
        assert relay.wakeups["poll"] == 0
        assert relay.wakeups["notify"] >= 3
    finally:
        await relay.stop()
        await producer.stop()


async def test_relay_without_notify_waits_for_its_poll(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    """The control: a row written without its NOTIFY is published by the safety poll only,
    so the test above would fail if publication did not come from the notification."""
    settings = common_settings
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="wake-ctl")
    await producer.start()
    relay = outbox.OutboxRelay(settings=settings, pool=pool, producer=producer,
                               schema=f"ob_{unique}", idle_poll_s=1.0)
    relay.start()
    try:
        first = _event(0)  # once it is out, the relay sits idle in its wait
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, topic=TOPIC, key="w", envelope=first)
        await eventually(partial(_published, pool, first.event_id), timeout=60, what="relay up")
        env = _event(1)
        await pool.execute("INSERT INTO outbox (topic, key, value, event_id) VALUES ($1,$2,$3,$4)",
                           TOPIC, "w", encode(env), env.event_id)
        await eventually(partial(_published, pool, env.event_id), timeout=30,
                         what="the silent row published by the poll")
        assert relay.wakeups["poll"] >= 1
    finally:
        await relay.stop()
        await producer.stop()


async def test_consumer_handles_a_record_long_before_its_long_poll_ends(
    common_settings: CommonSettings, unique: str
) -> None:
    settings = common_settings
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="wake-consumer")
    await producer.start()
    handled: list[int] = []

    async def record(env: Envelope[Any]) -> None:
        handled.append(env.payload.seq)

    consumer = EventConsumer(settings=settings, group_id=f"wk{unique}", topics=[TOPIC],
                             handle=route({Counter: record}), dead_letters=producer,
                             fetch_max_wait_ms=LONG_POLL_MS, poll_timeout_ms=LONG_POLL_MS)
    await consumer.start()
    try:
        for seq in range(3):  # the first also proves the group has joined and sits idle
            await producer.send_and_wait(settings.topic(TOPIC), encode(_event(seq)), key=b"w")

            async def arrived(seq: int = seq) -> bool:
                return seq in handled

            # Well inside the long poll (and aiokafka's 40 s request timeout, which would
            # otherwise end a stuck fetch): only the record's arrival can have answered it.
            await eventually(arrived, timeout=60 if seq == 0 else 20, what=f"record {seq}")
    finally:
        await consumer.stop()
        await producer.stop()
