"""A consumer loop that commits only what was processed and never crash-loops on bad data.

Records of one partition are handled in order; partitions run concurrently up to a
bound. Undecodable or schema-invalid records go to the dead-letter topic with the reason.
A handler that raises (database down, say) is retried from the same offset after a
backoff, so nothing is skipped; handlers must therefore be idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from baiying_shared.events.catalogue import DEAD_LETTER
from baiying_shared.events.envelope import Envelope, Payload, UndecodableEvent, decode
from baiying_shared.logging import get_logger
from baiying_shared.metrics import CONSUMED, DEAD_LETTERED, HANDLER_ERRORS
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class Message:
    """One consumed record: a decoded envelope, or None for a compaction tombstone."""

    topic: str
    partition: int
    offset: int
    key: str | None
    envelope: Envelope[Payload] | None


Handler = Callable[[Message], Awaitable[None]]


class EventConsumer:
    """Consume `topics` as `group_id` and feed each record to `handle`."""

    def __init__(
        self,
        *,
        settings: CommonSettings,
        group_id: str,
        topics: list[str],
        handle: Handler,
        dead_letters: AIOKafkaProducer,
        concurrency: int = 6,
        max_records: int = 500,
        retry_backoff_s: float = 1.0,
    ) -> None:
        self._settings = settings
        self._topics = [settings.topic(t) for t in topics]
        self._prefix = settings.topic_prefix
        self._group_id = settings.topic(group_id)
        self._handle = handle
        self._dlq = dead_letters
        self._sem = asyncio.Semaphore(concurrency)
        self._max_records = max_records
        self._backoff = retry_backoff_s
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
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
                batch = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
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
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> tuple[TopicPartition, int | None]:
        """Handle one partition's records in order; return the next offset to commit."""
        done: int | None = None
        async with self._sem:
            for record in records:
                if not await self._one(record):
                    assert self._consumer is not None
                    self._consumer.seek(tp, record.offset)  # retry from here next poll
                    await asyncio.sleep(self._backoff)
                    break
                done = record.offset + 1
        return tp, done

    async def _one(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        key = record.key.decode() if record.key is not None else None
        topic = record.topic.removeprefix(self._prefix)
        try:
            envelope = None if record.value is None else decode(record.value)
        except UndecodableEvent as exc:
            await self._dead_letter(record, str(exc))
            return True
        try:
            with structlog.contextvars.bound_contextvars(**_log_context(envelope)):
                await self._handle(Message(topic, record.partition, record.offset, key, envelope))
        except Exception as exc:  # a failing handler must not kill the loop
            HANDLER_ERRORS.labels(topic=topic).inc()
            log.exception(
                "handler failed; will retry", topic=topic, offset=record.offset, error=str(exc)
            )
            return False
        CONSUMED.labels(topic=topic).inc()
        return True

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        DEAD_LETTERED.labels(topic=record.topic).inc()
        log.error("dead-lettered", topic=record.topic, offset=record.offset, reason=reason)
        headers = [
            ("reason", reason[:2000].encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
            ("consumer_group", self._group_id.encode()),
        ]
        await self._dlq.send_and_wait(
            self._settings.topic(DEAD_LETTER), value=record.value, key=record.key, headers=headers
        )

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:  # rebalanced away: the new owner re-reads, handlers dedupe
            log.warning("commit failed", group=self._group_id, error=str(exc))


def _log_context(envelope: Envelope[Payload] | None) -> dict[str, str]:
    """Ids a person grepping the logs will look for: trace, incident, call-out."""
    if envelope is None:
        return {}
    context = {"trace_id": envelope.trace_id, "event_type": envelope.type}
    for name in ("incident_id", "callout_id"):
        value = getattr(envelope.payload, name, None)
        if value is not None:
            context[name] = str(value)
    return context
