"""Reading a topic from the beginning to its current end, as a rebuilding consumer would."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from baiying_shared.settings import CommonSettings


async def read_all(settings: CommonSettings, topic: str, within_s: float = 30) -> list[Any]:
    """Every record now in the topic, per partition in offset order."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        parts = list(consumer.assignment())
        assert parts, f"no partitions for {topic}"
        ends = await consumer.end_offsets(parts)
        records: list[Any] = []
        deadline = time.monotonic() + within_s
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            batch = await consumer.getmany(timeout_ms=500)
            for tp, tp_records in batch.items():
                records.extend(r for r in tp_records if r.offset < ends[tp])
        return records
    finally:
        await consumer.stop()


