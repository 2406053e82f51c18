"""What a consumer hands to its handlers, and where records that cannot be decoded go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord

from baiying_shared.events.catalogue import DEAD_LETTER
from baiying_shared.events.envelope import Envelope, Payload, UndecodableEvent, decode
from baiying_shared.logging import get_logger
from baiying_shared.metrics import DEAD_LETTERED
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
BatchHandler = Callable[[list[Message]], Awaitable[None]]


class DeadLetters:
    """Turns records into Messages; sends the undecodable ones to the dead-letter topic."""

    def __init__(
        self, *, settings: CommonSettings, group_id: str, producer: AIOKafkaProducer
    ) -> None:
        self._settings, self._group_id, self._producer = settings, group_id, producer

    async def message(self, record: ConsumerRecord[bytes, bytes]) -> Message | None:
        """The record as a Message, or None once it has been dead-lettered."""
        key = record.key.decode() if record.key is not None else None
        topic = record.topic.removeprefix(self._settings.topic_prefix)
        try:
            envelope = None if record.value is None else decode(record.value)
        except UndecodableEvent as exc:
            await self._send(record, str(exc))
            return None
        return Message(topic, record.partition, record.offset, key, envelope)

    async def _send(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        DEAD_LETTERED.labels(topic=record.topic).inc()
        log.error("dead-lettered", topic=record.topic, offset=record.offset, reason=reason)
        headers = [
            ("reason", reason[:2000].encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
            ("consumer_group", self._group_id.encode()),
        ]
        await self._producer.send_and_wait(
            self._settings.topic(DEAD_LETTER), value=record.value, key=record.key, headers=headers
        )


def log_context(envelope: Envelope[Payload] | None) -> dict[str, str]:
    """Ids a person grepping the logs will look for: trace, incident, call-out."""
    if envelope is None:
        return {}
    context = {"trace_id": envelope.trace_id, "event_type": envelope.type}
    for name in ("incident_id", "callout_id"):
        value = getattr(envelope.payload, name, None)
        if value is not None:
            context[name] = str(value)
    return context
