"""A relay whose producer is out of sequence replaces it and goes on publishing.

After a broker restart an idempotent producer can get OutOfOrderSequenceNumber for every
send from then on (aiokafka#1017); a relay that only retried with it stopped publishing for
good (seen in the broker-restart fault test: delivery statuses never reached the
dispatcher). Fakes stand in for the producers, so the fatal error happens for certain.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber

from baiying_shared.db import outbox
from baiying_shared.events.envelope import wrap
from baiying_shared.settings import CommonSettings
from tests.shared import test_outbox
from tests.shared.test_outbox import TOPIC, Counter
from tests.support import eventually

pool = test_outbox.pool  # the same fixture: a fresh outbox schema ob_<unique>


class FakeProducer:
    """Answers every send at once: with `error` if given, else with success, recording it."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[str, bytes]] = []
        self.running = False

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    async def send(self, topic: str, *, value: bytes, key: bytes) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.error is not None:
            done.set_exception(self.error)
        else:
            self.sent.append((topic, key))
            done.set_result(None)
        return done


async def test_an_out_of_sequence_producer_is_replaced_and_the_row_published(
    common_settings: CommonSettings, pool: asyncpg.Pool[Any], unique: str
) -> None:
    broken, fresh = FakeProducer(OutOfOrderSequenceNumber()), FakeProducer()
    relay = outbox.OutboxRelay(
        settings=common_settings, pool=pool, producer=cast(AIOKafkaProducer, broken),
        schema=f"ob_{unique}", idle_poll_s=0.5, renew=lambda: cast(AIOKafkaProducer, fresh))
    env = wrap(Counter(key="k", seq=1), producer="test")
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, topic=TOPIC, key="k", envelope=env)
    relay.start()
    try:

        async def published() -> bool:
            return bool(await pool.fetchval(
                "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", env.event_id))

        await eventually(published, timeout=30, what="the row published by the new producer")
        assert fresh.sent == [(common_settings.topic(TOPIC), b"k")]
        assert relay.renewals == 1 and fresh.running
    finally:
        await relay.stop()
    assert not fresh.running, "the relay stops the producer it made"
