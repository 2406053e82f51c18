"""A started EventConsumer for the shared tests, stopped when the block ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer

from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.settings import CommonSettings


@asynccontextmanager
async def consuming(
    settings: CommonSettings, topic: str, *, group: str, dead_letters: AIOKafkaProducer,
    **handler: Any,
) -> AsyncIterator[EventConsumer]:
    """A consumer of `topic` in `group`, dead letters through `dead_letters`; `handler` is
    `handle=` or `handle_batch=` (and any other EventConsumer option)."""
    consumer = EventConsumer(settings=settings, group_id=group, topics=[topic],
                             dead_letters=dead_letters, **handler)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
