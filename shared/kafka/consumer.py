"""A consumer loop that commits only what was processed and never crash-loops on bad data.

Records of one partition are handled in order; partitions run concurrently up to a
bound. Undecodable or schema-invalid records go to the dead-letter topic with the reason.
A handler that raises (database down, say) is retried from the same offset after a
backoff, so nothing is skipped; handlers must therefore be idempotent.

Two modes: `handle` gets one Message at a time; `handle_batch` gets all decodable
Messages of one partition's poll in offset order, in one call (one transaction for many
events). A failing batch is retried whole, from its first decodable offset.
"""

from __future__ import annotations

import asyncio
from typing import TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from baiying_shared.kafka.records import BatchHandler, DeadLetters, Handler, Message, log_context
from baiying_shared.logging import get_logger
from baiying_shared.metrics import CONSUMED, HANDLER_ERRORS
from baiying_shared.settings import CommonSettings

__all__ = ["BatchHandler", "EventConsumer", "Handler", "Message"]

log = get_logger(__name__)
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class EventConsumer:
    """Consume `topics` as `group_id`; feed each record to `handle` or each batch to
    `handle_batch` (exactly one of the two)."""

    def __init__(
        self,
        *,
        settings: CommonSettings,
        group_id: str,
        topics: list[str],
        dead_letters: AIOKafkaProducer,
        handle: Handler | None = None,
        handle_batch: BatchHandler | None = None,
        concurrency: int = 6,
        max_records: int = 500,
        retry_backoff_s: float = 1.0,
        fetch_max_wait_ms: int = 500,
        fetch_min_bytes: int = 1,
        poll_timeout_ms: int = 1000,
    ) -> None:
        if (handle is None) == (handle_batch is None):
            raise ValueError("pass exactly one of handle= and handle_batch=")
        self._settings = settings
        self._topics = [settings.topic(t) for t in topics]
        self._group_id = settings.topic(group_id)
        self._handle, self._handle_batch = handle, handle_batch
        self._dlq = DeadLetters(settings=settings, group_id=self._group_id, producer=dead_letters)
        self._sem = asyncio.Semaphore(concurrency)
        self._max_records = max_records
        self._backoff = retry_backoff_s
        self._fetch_wait_ms, self._poll_ms = fetch_max_wait_ms, poll_timeout_ms
        self._fetch_min_bytes = fetch_min_bytes
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def topics(self) -> list[str]:
        """The topics this consumer subscribes to (with the deployment's prefix)."""
        return list(self._topics)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
            # By default the broker answers a fetch as soon as one byte is there; the wait only
            # bounds an idle long poll, so neither adds latency to a record that arrives. A
            # consumer of bulk, non-urgent records may ask for more bytes: the broker then
            # holds the fetch up to the wait, and one poll carries many records.
            fetch_min_bytes=self._fetch_min_bytes,
            fetch_max_wait_ms=self._fetch_wait_ms,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consume:{self._group_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batch = await self._consumer.getmany(
                    timeout_ms=self._poll_ms, max_records=self._max_records
                )
            except KafkaError as exc:
                log.warning("consumer poll failed", group=self._group_id, error=str(exc))
                await asyncio.sleep(self._backoff)
                continue
            if not batch:
                continue
            results = await asyncio.gather(
                *(self._partition(tp, records) for tp, records in batch.items())
            )
            offsets = {tp: off for tp, off in results if off is not None}
            if offsets:
                await self._commit(offsets)

    async def _partition(
        self, tp: TopicPartition, records: list[Record]
    ) -> tuple[TopicPartition, int | None]:
        """Handle one partition's records in order; return the next offset to commit."""
        async with self._sem:
            if self._handle_batch is not None:
                return tp, await self._whole(tp, records, self._handle_batch)
            return tp, await self._each(tp, records)

    async def _each(self, tp: TopicPartition, records: list[Record]) -> int | None:
        done: int | None = None
        for record in records:
            if not await self._one(record):
                await self._retry_from(tp, record.offset, records)
                break
            done = record.offset + 1
        return done

    async def _one(self, record: Record) -> bool:
        assert self._handle is not None
        try:
            message = await self._dlq.message(record)
        except KafkaError as exc:  # the dead-letter topic is unreachable: try again later
            log.warning("dead-lettering failed", offset=record.offset, error=str(exc))
            return False
        if message is None:
            return True
        try:
            with structlog.contextvars.bound_contextvars(**log_context(message.envelope)):
                await self._handle(message)
        except Exception as exc:  # a failing handler must not kill the loop
            HANDLER_ERRORS.labels(topic=message.topic).inc()
            log.exception(
                "handler failed; will retry",
                topic=message.topic,
                offset=record.offset,
                error=str(exc),
            )
            return False
        CONSUMED.labels(topic=message.topic).inc()
        return True

    async def _whole(
        self, tp: TopicPartition, records: list[Record], handle: BatchHandler
    ) -> int | None:
        """Batch mode: dead-letter what cannot be decoded, then one call for the rest."""
        messages: list[Message] = []
        for record in records:
            try:
                message = await self._dlq.message(record)
            except KafkaError as exc:
                log.warning("dead-lettering failed", offset=record.offset, error=str(exc))
                return await self._retry_from(tp, record.offset, records)
            if message is not None:
                messages.append(message)
        end: int = records[-1].offset + 1
        if not messages:
            return end
        first, topic = messages[0].offset, messages[0].topic
        try:
            await handle(messages)
        except Exception as exc:  # retried whole; leading dead letters stay behind us
            HANDLER_ERRORS.labels(topic=topic).inc()
            log.exception(
                "batch handler failed; will retry",
                topic=topic,
                partition=tp.partition,
                offset=first,
                records=len(messages),
                error=str(exc),
            )
            return await self._retry_from(tp, first, records)
        CONSUMED.labels(topic=topic).inc(len(messages))
        return end

    async def _retry_from(
        self, tp: TopicPartition, offset: int, records: list[Record]
    ) -> int | None:
        """Seek back to `offset` and back off; return it for commit if the poll began earlier."""
        assert self._consumer is not None
        self._consumer.seek(tp, offset)  # the next poll starts here again
        await asyncio.sleep(self._backoff)
        start: int = records[0].offset
        return offset if offset > start else None

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:  # rebalanced away: the new owner re-reads, handlers dedupe
            log.warning("commit failed", group=self._group_id, error=str(exc))
