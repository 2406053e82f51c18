"""Transactional outbox: write events with the state change, publish after commit.

Rows go in lanes (`lane`, catalogue.URGENT or BULK, by topic unless the caller says): the
relay runs one publisher per lane, so an urgent row committed behind ten thousand bulk ones
leaves at once. Each lane's publisher holds a session advisory lock so exactly one per schema
and lane publishes, in id order, which keeps per-key order (a topic's rows share one lane).
It publishes a batch, waits for the broker's acks, then marks the rows. Killed between the
two, it republishes the batch on restart: consumers recognise the copies by event id (see
inbox.py). Nothing is lost and order per key holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber

from baiying_shared.events.catalogue import LANES, URGENT, lane_of
from baiying_shared.events.envelope import Envelope, encode
from baiying_shared.kafka.producer import make_producer
from baiying_shared.logging import get_logger
from baiying_shared.metrics import OUTBOX_PUBLISHED
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)
# Sends between two turns of the event loop: a bulk batch of 1,000 would otherwise hold the
# loop (and the urgent lane's publisher, the service's requests) for its whole send loop.
YIELD_EVERY = 50


def channel(lane: int) -> str:
    """The NOTIFY channel (after the schema name) that wakes `lane`'s publisher."""
    # Lane 0 keeps the channel of the days before lanes (the registry's importer notifies it).
    return "_outbox" if lane == URGENT else f"_outbox_{lane}"


async def add(
    conn: asyncpg.Connection[Any],
    *,
    topic: str,
    key: str,
    envelope: Envelope[Any],
    lane: int | None = None,
) -> None:
    """Queue an event inside the caller's transaction (in its topic's lane unless `lane`)."""
    # One round trip: the row and its wake-up. PostgreSQL delivers the notification at
    # commit (never before) and folds a transaction's identical notifications into one.
    # clock_timestamp(), not now(): when the event was written, late in its transaction, so
    # created_at -> published_at is the hop the benchmarks break down (bench/raise_to_sms.py).
    lane = lane_of(topic) if lane is None else lane
    await conn.execute(
        "WITH row AS (INSERT INTO outbox (topic, key, value, event_id, lane, created_at)"
        " VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING 1)"
        " SELECT pg_notify(current_schema() || $6, '') FROM row",
        topic,
        key,
        encode(envelope),
        envelope.event_id,
        lane,
        channel(lane),
    )


async def add_many(
    conn: asyncpg.Connection[Any],
    rows: list[tuple[str, str, Envelope[Any] | None]],
    *,
    lane: int | None = None,
) -> None:
    """Queue many events (topic, key, envelope or None for a tombstone) in one round trip;
    each in its topic's lane unless `lane` is given."""
    lanes = [lane_of(t) if lane is None else lane for t, _, _ in rows]
    # One statement, one round trip: the rows (in the given order, so ids keep per-key order),
    # stamped when written like add()'s, and each lane's wake-up, delivered at commit.
    await conn.execute(
        "WITH row AS (INSERT INTO outbox (topic, key, value, event_id, lane, created_at)"
        " SELECT t, k, v, e, l, clock_timestamp() FROM unnest($1::text[], $2::text[],"
        " $3::bytea[], $4::uuid[], $5::smallint[]) WITH ORDINALITY AS r(t, k, v, e, l, n)"
        " ORDER BY n RETURNING 1)"
        " SELECT pg_notify(current_schema() || c, '') FROM unnest($6::text[]) AS c"
        " WHERE EXISTS (SELECT 1 FROM row)",
        [t for t, _, _ in rows], [k for _, k, _ in rows],
        [encode(e) if e else None for _, _, e in rows],
        [e.event_id if e else None for _, _, e in rows], lanes,
        [channel(n) for n in sorted(set(lanes))],
    )


async def add_tombstone(conn: asyncpg.Connection[Any], *, topic: str, key: str) -> None:
    """Queue a delete marker for a compacted topic."""
    await add_many(conn, [(topic, key, None)])


class OutboxRelay:
    """Moves committed outbox rows to Kafka: one publisher per lane, each in id order."""

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
        lanes: tuple[int, ...] = LANES,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._producer = producer
        self._renew = renew or (lambda: make_producer(settings, client_id=f"relay-{schema}"))
        self._own: AIOKafkaProducer | None = None  # a replacement this relay made, and stops
        self._schema = schema
        self._batch = batch_size
        self._idle = idle_poll_s
        self._lanes = lanes
        self._wake = {lane: asyncio.Event() for lane in lanes}
        # Why each idle wait ended (all lanes): a commit's NOTIFY or the safety poll (tests).
        self.wakeups = {"notify": 0, "poll": 0}
        self.renewals = 0  # producers replaced after a fatal sequence error
        self._tasks: list[asyncio.Task[None]] = []

    def _lock_key(self, lane: int) -> int:
        # Lane 0 keeps the key of the days before lanes: an old relay and a new one never both
        # publish the urgent lane during a rolling restart.
        name = f"outbox:{self._schema}" + ("" if lane == URGENT else f":{lane}")
        return int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._supervise(lane), name=f"outbox:{self._schema}:{lane}")
            for lane in self._lanes
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own is not None:
            await self._own.stop()

    async def _supervise(self, lane: int) -> None:
        """Keep one lane's publisher running through database and broker outages."""
        while True:
            renewals = self.renewals
            try:
                await self._run(lane)
            except asyncio.CancelledError:
                raise
            except OutOfOrderSequenceNumber as exc:
                # Fatal for an idempotent producer (a broker restarted and lost its sequence
                # state): every later send fails the same way, so the relay would retry for
                # ever (aiokafka#1017). A new producer gets a new producer id; rows it sends
                # again are duplicates the consumers' inbox already ignores. The lanes share
                # the producer: only the first lane to see it fail replaces it.
                log.warning("outbox producer out of sequence; replacing it",
                            schema=self._schema, error=str(exc))
                if renewals == self.renewals:
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

    async def _run(self, lane: int) -> None:
        name, wake = f"{self._schema}{channel(lane)}", partial(self._on_notify, lane)
        async with self._pool.acquire() as conn:
            await conn.add_listener(name, wake)
            # This session only reads rows and marks them published: a mark lost in a crash
            # means a batch published again, which the consumers' inbox already drops, so it
            # need not wait for its WAL flush (each mark was a commit and an fsync of its own
            # during an advisory). The events themselves were committed by their writers,
            # synchronously. The pool's full reset (SET marks the session) clears it on release.
            await conn.execute("SET synchronous_commit = off")
            try:
                await self._wait_for_lock(conn, lane)
                while True:
                    if await self.publish_batch(conn, lane=lane) < self._batch:
                        await self._idle_wait(lane)
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener(name, wake)
                    await conn.execute("SELECT pg_advisory_unlock($1)", self._lock_key(lane))

    async def _idle_wait(self, lane: int) -> None:
        """Until a commit's NOTIFY or, failing one, the safety poll."""
        # The NOTIFY wakes us at once; the poll is only a safety net (a notification lost
        # with a dropped connection), never the latency of an event.
        try:
            await asyncio.wait_for(self._wake[lane].wait(), self._idle)
            self.wakeups["notify"] += 1
        except TimeoutError:
            self.wakeups["poll"] += 1
        self._wake[lane].clear()

    async def _wait_for_lock(self, conn: asyncpg.Connection[Any], lane: int) -> None:
        """Block while another relay of this schema publishes the lane (one keeps order)."""
        # The lock lives in PostgreSQL, so there is no in-process event to wait on.
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key(lane)):  # noqa: ASYNC110
            await asyncio.sleep(1)

    def _on_notify(self, lane: int, *_: object) -> None:
        self._wake[lane].set()

    async def publish_batch(self, conn: asyncpg.Connection[Any], *, lane: int = URGENT) -> int:
        """Publish one batch of `lane`'s unpublished rows, in id order; return how many."""
        # No transaction around it: the lane's advisory lock (held by this session) already
        # makes this the lane's only publisher, and a read, the acks and a mark need no row
        # locks; BEGIN and COMMIT were two round trips, BEGIN on every event's path. Killed
        # before the mark, the rows are read and published again (the consumers' inbox).
        rows = await conn.fetch(
            "SELECT id, topic, key, value FROM outbox WHERE published_at IS NULL"
            " AND lane = $2 ORDER BY id LIMIT $1",
            self._batch,
            lane,
        )
        if not rows:
            return 0
        futures = []
        for n, r in enumerate(rows, 1):
            futures.append(await self._producer.send(
                self._settings.topic(r["topic"]), value=r["value"], key=r["key"].encode()
            ))
            if n % YIELD_EVERY == 0:  # a send rarely suspends: let the other lane run
                await asyncio.sleep(0)
        await asyncio.gather(*futures)  # every ack before any row is marked
        await conn.execute(  # the moment every ack is in, not when the batch was read
            "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
            [r["id"] for r in rows],
        )
        OUTBOX_PUBLISHED.labels(schema=self._schema).inc(len(rows))
        return len(rows)
