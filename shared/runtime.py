"""One service's I/O in a box: pool, producer, relay, consumers — started and stopped together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from baiying_shared.db.housekeeping import COMMON, Prune, keep_tidy
from baiying_shared.db.migrate import migrate
from baiying_shared.db.outbox import OutboxRelay
from baiying_shared.db.pool import create_pool
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.kafka.producer import make_producer
from baiying_shared.logging import get_logger, service_context
from baiying_shared.oidc_revocations import RevocationList, revocation_consumer
from baiying_shared.settings import CommonSettings
from baiying_shared.web import ReadinessCheck

log = get_logger(__name__)


@dataclass
class Runtime:
    """Everything a service talks to; handed to its handlers and routes."""

    settings: CommonSettings
    service: str
    schema: str
    pool: asyncpg.Pool[Any]
    producer: AIOKafkaProducer
    relay: OutboxRelay
    consumers: list[EventConsumer] = field(default_factory=list)
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    # Revoked sessions, fed by every process's own auth.revocations.v1 consumer (auth.py reads it).
    revocations: RevocationList = field(default_factory=RevocationList)

    def checks(self) -> dict[str, ReadinessCheck]:
        async def database() -> None:
            await self.pool.fetchval("SELECT 1")

        async def kafka() -> None:
            await self.producer.client.fetch_all_metadata()

        return {"database": database, "kafka": kafka}


ConsumerFactory = Callable[[Runtime], list[EventConsumer]]


@asynccontextmanager
async def running(
    settings: CommonSettings,
    *,
    service: str,
    schema: str,
    migrations_package: str,
    consumers: ConsumerFactory | None = None,
    auto_migrate: bool = True,
    prunes: tuple[Prune, ...] = (),
) -> AsyncIterator[Runtime]:
    """Start the service's I/O; stop it in reverse order on exit."""
    # Bound here so the relay, consumers and background tasks started below inherit the label.
    with service_context(service):
        async with _running(settings, service=service, schema=schema,
                            migrations_package=migrations_package, consumers=consumers,
                            auto_migrate=auto_migrate, prunes=prunes) as runtime:
            yield runtime


@asynccontextmanager
async def _running(
    settings: CommonSettings,
    *,
    service: str,
    schema: str,
    migrations_package: str,
    consumers: ConsumerFactory | None,
    auto_migrate: bool,
    prunes: tuple[Prune, ...],
) -> AsyncIterator[Runtime]:
    await ensure_topics(settings)
    if auto_migrate:
        await migrate(
            settings.database_url.get_secret_value(), schema=schema, package=migrations_package
        )
    pool = await create_pool(settings, schema=schema)
    producer = make_producer(settings, client_id=f"baiying-{service}")
    await producer.start()
    relay = OutboxRelay(settings=settings, pool=pool, producer=producer, schema=schema)
    runtime = Runtime(settings, service, schema, pool, producer, relay)
    try:
        relay.start()
        runtime.background.append(asyncio.create_task(
            keep_tidy(pool, (*COMMON, *prunes), every_s=settings.housekeeping_interval_s),
            name=f"housekeeping:{schema}",
        ))
        runtime.consumers = consumers(runtime) if consumers else []
        runtime.consumers.append(revocation_consumer(
            settings, service=service, revocations=runtime.revocations, dead_letters=producer
        ))
        for consumer in runtime.consumers:
            await consumer.start()
        log.info("service started", service=service, consumers=len(runtime.consumers))
        yield runtime
    finally:
        for task in runtime.background:
            task.cancel()
        await asyncio.gather(*runtime.background, return_exceptions=True)
        for consumer in runtime.consumers:
            await consumer.stop()
        await relay.stop()
        await producer.stop()
        await pool.close()
        log.info("service stopped", service=service)
