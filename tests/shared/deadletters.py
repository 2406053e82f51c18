"""Reading a test's dead-letter topic back (shared by the consumer tests)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from baiying_shared.events.catalogue import DEAD_LETTER
from baiying_shared.settings import CommonSettings
from tests.support import eventually


async def read_dead_letters(settings: CommonSettings, n: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `n` records on the dead-letter topic (waits until that many arrived)."""
    reader = AIOKafkaConsumer(
        settings.topic(DEAD_LETTER),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await reader.start()
    got: list[ConsumerRecord[bytes, bytes]] = []
    try:

        async def read() -> bool:
            for records in (await reader.getmany(timeout_ms=200)).values():
                got.extend(records)
            return len(got) >= n

        await eventually(read, timeout=20, what=f"{n} dead letters")
    finally:
        await reader.stop()
    return got
