"""A relay process for the kill test: publishes the outbox, optionally SIGKILLs itself.

`kill_after=N` makes it die by SIGKILL right after the broker acknowledged the N-th
send of its life — mid-batch, after publishing and before marking the rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from aiokafka import AIOKafkaProducer

from baiying_shared.db.outbox import OutboxRelay
from baiying_shared.db.pool import create_pool
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings


class DiesAfter:
    """Producer decorator that kills the process once `limit` sends are acknowledged."""

    def __init__(self, inner: AIOKafkaProducer, limit: int) -> None:
        self._inner, self._limit, self._sent = inner, limit, 0

    async def send(self, topic: str, **kwargs: Any) -> Any:
        future = await self._inner.send(topic, **kwargs)
        self._sent += 1
        if self._limit and self._sent >= self._limit:
            await self._inner.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return future


async def main(schema: str, kill_after: int) -> None:
    settings = CommonSettings()
    pool = await create_pool(settings, schema=schema)
    producer = make_producer(settings, client_id="relay-test")
    await producer.start()
    relay = OutboxRelay(
        settings=settings,
        pool=pool,
        producer=DiesAfter(producer, kill_after),  # type: ignore[arg-type]
        schema=schema,
        batch_size=200,
    )
    relay.start()
    print("relay started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
