"""Lanes through the notifier, with the real broker, PostgreSQL, twilio library and sandbox.

An advisory's call-outs arrive on dispatch.callouts.bulk.v1 and are read by a consumer of
their own. Here the whole advisory is held inside that consumer (its inbox claims wait on a
transaction of the test's that already holds their event ids), so nothing of it can reach
the deliveries table until the test lets go — and an urgent call-out published after it must
get there meanwhile. A copy of a bulk event redelivered later still sends no second SMS.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from baiying_notifier.config import NotifierSettings
from baiying_notifier.intake import CONSUMER
from baiying_shared.events import callouts
from baiying_shared.events.catalogue import DELIVERIES_BULK
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import Envelope, decode, encode, wrap
from tests.notifier.conftest import notifier_settings
from tests.notifier.harness import System, issued, system
from tests.support import eventually

__all__ = ["notifier_settings"]  # the fixture, imported for these tests
Factory = Callable[..., NotifierSettings]
CROWD = 300


def _phones(n: int, base: int) -> list[str]:
    return [f"+86137{base:04d}{i:04d}" for i in range(n)]


async def _publish(s: System, topic: str, envs: list[Envelope[Any]]) -> None:
    """As the dispatcher's relay would: keyed by volunteer, every ack awaited."""
    producer = s.dispatcher._producer  # the harness's real producer
    futures = [
        await producer.send(s.settings.topic(topic), key=str(e.payload.volunteer_id).encode(),
                            value=encode(e))
        for e in envs
    ]
    await asyncio.gather(*futures)


async def _rows(s: System, callout_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    return list(await s.pool.fetch(
        "SELECT callout_id, seq FROM deliveries WHERE callout_id = ANY($1::uuid[])"
        " AND channel = 'sms'", callout_ids))


async def _waits_on(pool: asyncpg.Pool[Any], pid: int) -> bool:
    return bool(await pool.fetchval(
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid))


@asynccontextmanager
async def claims_held(
    pool: asyncpg.Pool[Any], database_url: str, *, schema: str, consumer: str,
    event_ids: list[uuid.UUID],
) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
    """The inbox claims of `event_ids` taken in a transaction left open until the block ends
    (then rolled back): a consumer reaching one waits. Yields a probe: is someone waiting?"""
    blocker = await asyncpg.connect(database_url)
    try:
        await blocker.execute("BEGIN")
        await blocker.execute(f"INSERT INTO {schema}.processed_events (event_id, consumer)"
                              " SELECT unnest($1::uuid[]), $2", event_ids, consumer)
        yield partial(_waits_on, pool, blocker.get_server_pid())
    finally:
        await blocker.close()  # the claims roll back: the consumer goes on


async def test_an_urgent_callout_reaches_deliveries_while_a_bulk_advisory_is_held(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        crowd = [wrap(issued(phone=ph, kind="advisory", rank=i), producer="dispatcher")
                 for i, ph in enumerate(_phones(CROWD, 1))]
        held = claims_held(s.pool, s.settings.database_url.get_secret_value(), schema="notifier",
                           consumer=CONSUMER, event_ids=[e.event_id for e in crowd])
        async with held as waiting:
            await _publish(s, callouts.BULK_TOPIC, crowd)
            await eventually(waiting, timeout=60,
                             what="the bulk intake waiting on the advisory's claims")
            urgent = issued(phone="+8613700009999", rank=1)
            await s.dispatcher.publish(urgent)  # dispatch.callouts.v1, published after it
            [(_, urgent_seq)] = await eventually(lambda: _rows(s, [urgent.callout_id]),
                                                 timeout=60, what="the urgent delivery row")
            ids = [e.payload.callout_id for e in crowd]
            assert await _rows(s, ids) == [], "the advisory is held, yet some of it got in"
            await s.wait_received([urgent.phone])
        rows = await eventually(lambda: _full(s, ids), timeout=120, what="the advisory's rows")
        assert all(seq > urgent_seq for _, seq in rows)
        await s.wait_received([str(e.payload.phone) for e in crowd], limit_s=120)
        assert all(len(s.received(str(e.payload.phone))) == 1 for e in crowd)
        # The advisory's statuses took the bulk topic, the call-out's the usual one.
        await _delivered_on(s.settings, DELIVERIES_BULK, set(ids))
        await eventually(lambda: _now(s.tap.of(DeliveryStatusChanged, status="delivered",
                                               callout_id=urgent.callout_id)),
                         what="the call-out's status on notify.deliveries.v1")
        reported = {p.callout_id for p in s.tap.of(DeliveryStatusChanged)}  # "queued" too
        assert not reported & set(ids), "an advisory's status on the call-outs' topic"


async def _full(s: System, ids: list[uuid.UUID]) -> list[asyncpg.Record] | None:
    rows = await _rows(s, ids)
    return rows if len(rows) == len(ids) else None


async def _now(value: Any) -> Any:
    return value


async def _delivered_on(settings: NotifierSettings, topic: str, ids: set[uuid.UUID]) -> None:
    """Read `topic` until every one of `ids` has a `delivered` status on it (bounded)."""
    consumer = AIOKafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    missing = set(ids)
    try:
        async with asyncio.timeout(60):
            while missing:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    events = [decode(r.value).payload for r in records if r.value is not None]
                    missing -= {p.callout_id for p in events if p.status == "delivered"}
    finally:
        await consumer.stop()


async def test_a_redelivered_bulk_event_sends_no_second_sms(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        person = uuid.uuid4()
        first = wrap(issued(phone="+8613700008801", kind="advisory", volunteer_id=person),
                     producer="dispatcher")
        await _publish(s, callouts.BULK_TOPIC, [first])
        await s.wait_received([first.payload.phone])
        # The same event again (a relay's republished batch), then, keyed to the same person
        # and so on the same partition behind it, a marker whose SMS shows the copy was read.
        marker = wrap(issued(phone="+8613700008802", kind="advisory", volunteer_id=person),
                      producer="dispatcher")
        await _publish(s, callouts.BULK_TOPIC, [first, marker])
        await s.wait_received([marker.payload.phone])
        assert len(s.received(first.payload.phone)) == 1
        assert len(await _rows(s, [first.payload.callout_id])) == 1
