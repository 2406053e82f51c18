"""The broker's raw round trip: produce one record and consume it, on a topic of its own.

    python3 -m bench.broker_rtt [--messages 300]

The floor under raise-to-first-SMS, which crosses the broker once (outbox relay -> notifier).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.stats import percentiles, progress

KAFKA = os.environ.get("BAIYING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


async def _round_trips(topic: str, n: int) -> list[float]:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False,
                                fetch_max_wait_ms=10)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_end(TopicPartition(topic, 0))
        samples = []
        for i in range(n + 10):  # the first ten warm up connections and metadata
            t0 = time.perf_counter()
            await producer.send_and_wait(topic, f"{i}".encode())
            record = await consumer.getone()
            assert record.value == f"{i}".encode()
            if i >= 10:
                samples.append((time.perf_counter() - t0) * 1000)
        return samples
    finally:
        await consumer.stop()
        await producer.stop()


async def run(messages: int = 300) -> dict[str, Any]:
    topic = f"bench.rtt.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        progress(f"broker round trip: {messages} produce->consume on {topic}")
        samples = await _round_trips(topic, messages)
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    return {"benchmark": "broker_rtt", "acks": "all", "produce_to_consume": percentiles(samples)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    print(json.dumps(asyncio.run(run(parser.parse_args().messages)), indent=2))
