"""Create the catalogue's topics at start-up; re-running is harmless."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from baiying_shared.events.catalogue import TOPICS, TopicSpec
from baiying_shared.logging import get_logger
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)


async def ensure_topics(
    settings: CommonSettings, specs: tuple[TopicSpec, ...] = TOPICS
) -> list[str]:
    """Create any missing topic of the catalogue; return the names created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id="baiying-admin"
    )
    await _start_with_retry(admin)
    try:
        existing = set(await admin.list_topics())
        wanted = [s for s in specs if settings.topic(s.name) not in existing]
        if not wanted:
            return []
        new = [
            NewTopic(
                settings.topic(s.name),
                min(s.partitions, settings.kafka_max_partitions or s.partitions),
                settings.kafka_replication_factor,
                topic_configs={
                    **s.config(),
                    "min.insync.replicas": str(settings.kafka_min_insync_replicas),
                },
            )
            for s in wanted
        ]
        created = []
        for topic in new:  # one at a time: a racing creator must not fail the rest
            try:
                await admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        log.info("topics created", topics=created)
        return created
    finally:
        await admin.close()


async def _start_with_retry(admin: AIOKafkaAdminClient, attempts: int = 30) -> None:
    for attempt in range(attempts):
        try:
            await admin.start()
            return
        except KafkaConnectionError:
            if attempt == attempts - 1:
                raise
            log.warning("kafka not reachable yet, retrying", attempt=attempt + 1)
            await asyncio.sleep(1)
