"""Undecodable and schema-invalid records go to the dead-letter topic; the consumer goes on."""

from __future__ import annotations

from typing import Any

from baiying_shared.events.envelope import Envelope, encode
from baiying_shared.events.teams import TOPIC, TeamSnapshot
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.settings import CommonSettings
from tests.shared.deadletters import (
    NOT_JSON,
    assert_poison_reasons,
    invalid,
    produce,
    read_dead_letters,
    team,
)
from tests.support import eventually


async def test_poison_messages_are_dead_lettered_and_consumption_continues(
    common_settings: CommonSettings, unique: str
) -> None:
    settings = common_settings
    good = team(1)
    # One partition: the good record comes after both poisons.
    producer = await produce(settings, [NOT_JSON, invalid(), encode(good)], key=b"same-key")
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
        assert_poison_reasons(await read_dead_letters(settings, 2))
    finally:
        await producer.stop()


async def _done(handled: list[Envelope[Any]]) -> bool:
    return len(handled) == 1
