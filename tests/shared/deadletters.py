"""The consumer tests' poison records and reading their dead-letter topic back."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from baiying_shared.events.catalogue import DEAD_LETTER
from baiying_shared.events.envelope import Envelope, encode, wrap
from baiying_shared.events.teams import TOPIC, TeamSnapshot
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
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


def team(n: int) -> Envelope[Any]:
    """A valid team snapshot event."""
    snapshot = TeamSnapshot(
        team_id=uuid.uuid4(), name=f"巡防{n}队", type="patrol", district="360702"
    )
    return wrap(snapshot, producer="test")


def invalid() -> bytes:
    """Well-formed JSON whose payload fails the schema (a district that is no code)."""
    raw = json.loads(encode(team(0)))
    raw["payload"]["district"] = "not-a-code"
    return json.dumps(raw).encode()


NOT_JSON = b"\xff\xfe not json"


async def produce(settings: CommonSettings, values: list[bytes], *, key: bytes) -> AIOKafkaProducer:
    """The team topic made and `values` on it under one key; the producer left running."""
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="t")
    await producer.start()
    for value in values:
        await producer.send_and_wait(settings.topic(TOPIC), value=value, key=key)
    return producer


def assert_poison_reasons(records: list[ConsumerRecord[bytes, bytes]]) -> None:
    """The two dead letters of NOT_JSON and invalid(), each with a reason a person can read."""
    reasons = sorted(dict(r.headers)["reason"].decode() for r in records)
    assert len(records) == 2
    assert reasons[0].startswith("invalid team.snapshot v1") and "district" in reasons[0]
    assert reasons[1].startswith("not JSON")
