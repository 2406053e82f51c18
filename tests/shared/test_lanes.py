"""Outbox lanes: an urgent row committed behind thousands of bulk rows leaves first.

The relay publishes each lane on its own, in id order. A gate holds every bulk send, so the
urgent row can only be out because its lane does not wait for the bulk one; the control
puts the same row in the bulk lane and sees it held. Per-key order is checked on the broker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from baiying_shared.db import outbox
from baiying_shared.events.catalogue import BULK, DELIVERIES_BULK, URGENT, lane_of
from baiying_shared.events.envelope import Envelope, decode, wrap
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from tests.shared import test_outbox
from tests.shared.test_outbox import TOPIC, Counter
from tests.support import eventually

pool = test_outbox.pool  # the same fixture: a fresh outbox schema ob_<unique>
BULK_TOPIC = DELIVERIES_BULK  # a bulk-lane topic of the catalogue (the prefix isolates it)
KEYS, PER_KEY = 10, 300  # 3,000 bulk rows, three of the relay's batches


class GatedProducer:
    """Sends to `held` topics wait until the gate opens; everything else goes at once."""

    def __init__(self, inner: AIOKafkaProducer, held: str) -> None:
        self._inner, self._held = inner, held
        self.gate = asyncio.Event()

    async def send(self, topic: str, **kwargs: Any) -> Any:
        if topic == self._held:
            await self.gate.wait()
        return await self._inner.send(topic, **kwargs)


def _counter(key: str, seq: int) -> Envelope[Any]:
    return wrap(Counter(key=key, seq=seq), producer="test")


async def _bulk_backlog(pool: asyncpg.Pool[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add_many(conn, [
            (BULK_TOPIC, f"k{k}", _counter(f"k{k}", s))
            for s in range(PER_KEY) for k in range(KEYS)
        ])


async def _published(pool: asyncpg.Pool[Any], event_id: uuid.UUID) -> bool:
    return bool(await pool.fetchval(
        "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id))


async def _unpublished(pool: asyncpg.Pool[Any]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def _gated_relay(
    settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> tuple[outbox.OutboxRelay, GatedProducer, AIOKafkaProducer]:
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="lanes")
    await producer.start()
    gated = GatedProducer(producer, settings.topic(BULK_TOPIC))
    relay = outbox.OutboxRelay(settings=settings, pool=pool, producer=cast(Any, gated),
                               schema=f"ob_{unique}", idle_poll_s=600.0)
    return relay, gated, producer


def test_a_topic_is_in_its_catalogue_lane() -> None:
    assert lane_of(BULK_TOPIC) == BULK
    assert lane_of("dispatch.callouts.bulk.v1") == BULK
    assert lane_of("dispatch.callouts.v1") == lane_of("notify.replies.v1") == URGENT
    assert lane_of("not.in.the.catalogue") == URGENT


async def test_rows_take_their_topics_lane_unless_told(pool: asyncpg.Pool[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add_many(conn, [(BULK_TOPIC, "a", _counter("a", 0)),
                                     (TOPIC, "b", _counter("b", 0))])
        await outbox.add(conn, topic=TOPIC, key="c", envelope=_counter("c", 0))
        await outbox.add(conn, topic=TOPIC, key="d", envelope=_counter("d", 0), lane=BULK)
    lanes = dict(await pool.fetch("SELECT key, lane FROM outbox"))
    assert lanes == {"a": BULK, "b": URGENT, "c": URGENT, "d": BULK}


async def test_an_urgent_row_leaves_while_every_bulk_row_waits(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    settings = common_settings
    await _bulk_backlog(pool)
    urgent = _counter("u", 0)
    async with pool.acquire() as conn, conn.transaction():  # committed after the backlog
        await outbox.add(conn, topic=TOPIC, key="u", envelope=urgent)
    relay, gated, producer = await _gated_relay(settings, pool, unique)
    relay.start()
    try:
        await eventually(lambda: _published(pool, urgent.event_id), timeout=30,
                         what="the urgent row published")
        assert await _unpublished(pool) == KEYS * PER_KEY, "the bulk lane is still held"
        gated.gate.set()
        await eventually(lambda: _none_left(pool), timeout=60, what="the bulk rows published")
    finally:
        await relay.stop()
        await producer.stop()
    assert relay.wakeups["poll"] == 0
    await _assert_order_per_key(settings)


async def test_control_the_same_row_in_the_bulk_lane_waits_behind_it(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    """Without its own lane the late row is held with the backlog: the test above would fail
    if lanes did not separate the publishers."""
    await _bulk_backlog(pool)
    late = _counter("u", 0)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, topic=TOPIC, key="u", envelope=late, lane=BULK)
    relay, gated, producer = await _gated_relay(common_settings, pool, unique)
    relay.start()
    try:
        # The relay is up: a row in the urgent lane goes out while the bulk lane is held.
        probe = _counter("p", 0)
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, topic=TOPIC, key="p", envelope=probe)
        await eventually(lambda: _published(pool, probe.event_id), timeout=30, what="probe")
        assert not await _published(pool, late.event_id)
        gated.gate.set()
        await eventually(lambda: _published(pool, late.event_id), timeout=60, what="late row")
    finally:
        await relay.stop()
        await producer.stop()


async def test_the_relays_query_reads_a_lane_by_its_index(pool: asyncpg.Pool[Any]) -> None:
    """With 10,000 bulk rows pending the urgent lane's query stays an index range read."""
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add_many(conn, [(BULK_TOPIC, "k", _counter("k", s)) for s in range(10_000)])
        await outbox.add(conn, topic=TOPIC, key="u", envelope=_counter("u", 0))
    await pool.execute("ANALYZE outbox")
    plan = "\n".join(r[0] for r in await pool.fetch(
        "EXPLAIN SELECT id, topic, key, value FROM outbox WHERE published_at IS NULL"
        " AND lane = $2 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", 1000, URGENT))
    assert "outbox_unpublished_lane" in plan, plan


async def _none_left(pool: asyncpg.Pool[Any]) -> bool:
    return await _unpublished(pool) == 0


async def _assert_order_per_key(settings: CommonSettings) -> None:
    """Every key's seqs arrive on the broker in the order they were written."""
    consumer = AIOKafkaConsumer(settings.topic(BULK_TOPIC),
                                bootstrap_servers=settings.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: dict[str, list[int]] = defaultdict(list)
    try:
        while sum(map(len, seen.values())) < KEYS * PER_KEY:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, "the broker holds fewer records than were published"
            for records in batch.values():
                for r in records:
                    assert r.value is not None
                    p = decode(r.value).payload
                    seen[p.key].append(p.seq)
    finally:
        await consumer.stop()
    assert all(seqs == list(range(PER_KEY)) for seqs in seen.values()), "order per key broken"
    assert len(seen) == KEYS
