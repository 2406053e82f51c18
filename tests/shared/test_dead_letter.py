"""Undecodable and schema-invalid records go to the dead-letter topic; the consumer goes on, and
the good records around them arrive in order — one record at a time or a poll at a time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from baiying_shared.events.envelope import Envelope, encode
from baiying_shared.events.teams import TOPIC, TeamSnapshot
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import Message
from baiying_shared.settings import CommonSettings
from tests.shared.deadletters import (
    NOT_JSON,
    assert_poison_reasons,
    invalid,
    produce,
    read_dead_letters,
    team,
)
from tests.shared.support import consuming
from tests.support import eventually


class Handled:
    """Event ids handled, in order, by either handler shape."""

    def __init__(self) -> None:
        self.ids: list[uuid.UUID] = []

    async def one(self, env: Envelope[Any]) -> None:
        self.ids.append(env.event_id)

    async def batch(self, messages: list[Message]) -> None:
        self.ids.extend(m.envelope.event_id for m in messages if m.envelope)

    def handler(self, shape: str) -> dict[str, Any]:
        return ({"handle": route({TeamSnapshot: self.one})} if shape == "handle"
                else {"handle_batch": self.batch})


@pytest.mark.parametrize("shape", ["handle", "handle_batch"])
async def test_poison_is_dead_lettered_and_the_rest_arrive_in_order(
    common_settings: CommonSettings, unique: str, shape: str
) -> None:
    settings = common_settings
    good = [team(n) for n in range(3)]
    # One partition: each poison between good records.
    values = [encode(good[0]), NOT_JSON, encode(good[1]), invalid(), encode(good[2])]
    producer = await produce(settings, values, key=b"same-key")
    handled = Handled()
    try:
        async with consuming(settings, TOPIC, group=f"dlq-{shape}{unique}",
                             dead_letters=producer, **handled.handler(shape)):

            async def done() -> bool:
                return len(handled.ids) >= len(good)

            await eventually(done, timeout=30, what="the good records handled")
        assert handled.ids == [e.event_id for e in good]
        assert_poison_reasons(await read_dead_letters(settings, 2))
    finally:
        await producer.stop()
