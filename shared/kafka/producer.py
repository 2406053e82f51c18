"""The one producer configuration every service uses."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from baiying_shared.settings import CommonSettings


def make_producer(settings: CommonSettings, *, client_id: str) -> AIOKafkaProducer:
    """Idempotent (which implies acks=all), with batching tuned for fan-out."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        # A few milliseconds of linger lets a 10,000-person call leave in a few hundred
        # requests instead of 10,000; a single alert waits at most this long.
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )
