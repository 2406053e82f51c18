"""Transactional outbox: write events with the state change, publish after commit.

The relay holds a session advisory lock so exactly one relay per schema publishes,
which keeps per-key order. It publishes a batch, waits for the broker's acks, then
marks the rows. Killed between the two, it republishes the batch on restart: consumers
recognise the copies by event id (see inbox.py). Nothing is lost and order per key holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber

from baiying_shared.events.envelope import Envelope, encode
from baiying_shared.kafka.producer import make_producer
from baiying_shared.logging import get_logger
from baiying_shared.metrics import OUTBOX_PUBLISHED
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)


async def add(
    conn: asyncpg.Connection[Any], *, topic: str, key: str, envelope: Envelope[Any]
) -> None:
    """Queue an event inside the caller's transaction."""
    # One round trip: the row and its wake-up. PostgreSQL delivers the notification at
    # commit (never before) and folds a transaction's identical notifications into one.
    # clock_timestamp(), not now(): when the event was written, late in its transaction, so
    # created_at -> published_at is the hop the benchmarks break down (bench/raise_to_sms.py).
    await conn.execute(
        "WITH row AS (INSERT INTO outbox (topic, key, value, event_id, created_at)"
        " VALUES ($1, $2, $3, $4, clock_timestamp()) RETURNING 1)"
        " SELECT pg_notify(current_schema() || '_outbox', '') FROM row",
        topic,
        key,
        encode(envelope),
        envelope.event_id,
    )


async def add_many(
    conn: asyncpg.Connection[Any], rows: list[tuple[str, str, Envelope[Any] | None]]
) -> None:
    """Queue many events (topic, key, envelope or None for a tombstone) in one round trip."""
    await conn.executemany(
        "INSERT INTO outbox (topic, key, value, event_id) VALUES ($1, $2, $3, $4)",
        [(t, k, encode(e) if e else None, e.event_id if e else None) for t, k, e in rows],
    )
    await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")


async def add_tombstone(conn: asyncpg.Connection[Any], *, topic: str, key: str) -> None:
    """Queue a delete marker for a compacted topic."""
    await add_many(conn, [(topic, key, None)])


class OutboxRelay:
    """Moves committed outbox rows to Kafka, in id order."""

    def __init__(
        self,
        *,
        settings: CommonSettings,
        pool: asyncpg.Pool[Any],
        producer: AIOKafkaProducer,
        schema: str,
        batch_size: int = 1000,
        idle_poll_s: float = 5.0,
        renew: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._producer = producer
        self._renew = renew or (lambda: make_producer(settings, client_id=f"relay-{schema}"))
        self._own: AIOKafkaProducer | None = None  # a replacement this relay made, and stops
        self._schema = schema
        self._batch = batch_size
        self._idle = idle_poll_s
        self._wake = asyncio.Event()
        # Why each idle wait ended: a commit's NOTIFY or the safety poll (tests read this).
        self.wakeups = {"notify": 0, "poll": 0}
        self.renewals = 0  # producers replaced after a fatal sequence error
        self._task: asyncio.Task[None] | None = None
        self._lock_key = int.from_bytes(
            hashlib.sha1(f"outbox:{schema}".encode()).digest()[:8], "big", signed=True
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"outbox:{self._schema}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._own is not None:
            await self._own.stop()

    async def _supervise(self) -> None:
        """Keep a relay running through database and broker outages."""
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except OutOfOrderSequenceNumber as exc:
                # Fatal for an idempotent producer (a broker restarted and lost its sequence
                # state): every later send fails the same way, so the relay would retry for
                # ever (aiokafka#1017). A new producer gets a new producer id; rows it sends
                # again are duplicates the consumers' inbox already ignores.
                log.warning("outbox producer out of sequence; replacing it",
                            schema=self._schema, error=str(exc))
                await self._replace_producer()
            except (OSError, asyncpg.PostgresError, KafkaError, asyncpg.InterfaceError) as exc:
                log.warning(
                    "outbox relay interrupted; restarting", schema=self._schema, error=str(exc)
                )
                await asyncio.sleep(1)

    async def _replace_producer(self) -> None:
        fresh = self._renew()
        await fresh.start()
        if self._own is not None:
            with contextlib.suppress(Exception):
                await self._own.stop()
        self._producer = self._own = fresh
        self.renewals += 1

    async def _run(self) -> None:
        async with self._pool.acquire() as conn:
            await conn.add_listener(f"{self._schema}_outbox", self._on_notify)
            try:
                await self._wait_for_lock(conn)
                while True:
                    if await self.publish_batch(conn) < self._batch:
                        await self._idle_wait()
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener(f"{self._schema}_outbox", self._on_notify)
                    await conn.execute("SELECT pg_advisory_unlock($1)", self._lock_key)

    async def _idle_wait(self) -> None:
        """Until a commit's NOTIFY or, failing one, the safety poll."""
        # The NOTIFY wakes us at once; the poll is only a safety net (a notification lost
        # with a dropped connection), never the latency of an event.
        try:
            await asyncio.wait_for(self._wake.wait(), self._idle)
            self.wakeups["notify"] += 1
        except TimeoutError:
            self.wakeups["poll"] += 1
        self._wake.clear()

    async def _wait_for_lock(self, conn: asyncpg.Connection[Any]) -> None:
        """Block while another relay of this schema is publishing (one publisher keeps order)."""
        # The lock lives in PostgreSQL, so there is no in-process event to wait on.
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key):  # noqa: ASYNC110
            await asyncio.sleep(1)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def publish_batch(self, conn: asyncpg.Connection[Any]) -> int:
        """Publish one batch of unpublished rows; return how many."""
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, value FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            if not rows:
                return 0
            futures = [
                await self._producer.send(
                    self._settings.topic(r["topic"]), value=r["value"], key=r["key"].encode()
                )
                for r in rows
            ]
            await asyncio.gather(*futures)  # every ack before any row is marked
            await conn.execute(  # the moment every ack is in, not when the batch was read
                "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
        OUTBOX_PUBLISHED.labels(schema=self._schema).inc(len(rows))
        return len(rows)
