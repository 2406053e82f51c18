"""Undecodable and schema-invalid records go to the dead-letter topic; the consumer goes on."""

from __future__ import annotations

import json
import uuid
from typing import Any

from baiying_shared.events.envelope import Envelope, encode, wrap
from baiying_shared.events.teams import TOPIC, TeamSnapshot
from baiying_shared.handlers import route
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from tests.shared.deadletters import read_dead_letters
from tests.support import eventually


async def test_poison_messages_are_dead_lettered_and_consumption_continues(
    common_settings: CommonSettings, unique: str
) -> None:
    settings = common_settings
    await ensure_topics(settings)
    producer = make_producer(settings, client_id="t")
    await producer.start()
    team = TeamSnapshot(
        team_id=uuid.uuid4(), name="章贡区巡防一队", type="patrol", district="360702"
    )
    good = wrap(team, producer="test")
    invalid = json.loads(encode(wrap(team, producer="test")))
    invalid["payload"]["district"] = "not-a-code"
    key = b"same-key"  # one partition: the good record comes after both poisons
    for value in (b"\xff\xfe not json", json.dumps(invalid).encode(), encode(good)):
        await producer.send_and_wait(settings.topic(TOPIC), value=value, key=key)

    handled: list[Envelope[Any]] = []

    async def on_team(env: Envelope[Any]) -> None:
        handled.append(env)

    consumer = EventConsumer(
        settings=settings,
        group_id=f"dlq{unique}",
        topics=[TOPIC],
        handle=route({TeamSnapshot: on_team}),
        dead_letters=producer,
    )
    await consumer.start()
    try:
        await eventually(lambda: _done(handled), timeout=30, what="the good record handled")
    finally:
        await consumer.stop()
    assert [e.event_id for e in handled] == [good.event_id]

    try:
        records = await read_dead_letters(settings, 2)
    finally:
        await producer.stop()
    reasons = sorted(dict(r.headers)["reason"].decode() for r in records)
    assert len(records) == 2
    assert reasons[0].startswith("invalid team.snapshot v1") and "district" in reasons[0]
    assert reasons[1].startswith("not JSON")


async def _done(handled: list[Envelope[Any]]) -> bool:
    return len(handled) == 1
