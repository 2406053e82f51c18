"""EventConsumer(handle_batch=…): one call per partition poll, in order, retried whole (poison
in a batch: tests/shared/test_dead_letter.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from baiying_shared.events.envelope import encode
from baiying_shared.events.teams import TOPIC
from baiying_shared.kafka.consumer import EventConsumer, Message
from baiying_shared.settings import CommonSettings
from tests.shared.deadletters import NOT_JSON, produce, read_dead_letters, team
from tests.shared.support import consuming
from tests.support import eventually

KEY = b"one-partition"  # every record of a test on the same partition


class Recorder:
    """A batch handler that keeps every call and fails the first `failures` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[list[Message]] = []
        self.failures = failures

    async def __call__(self, messages: list[Message]) -> None:
        self.calls.append(messages)
        if len(self.calls) <= self.failures:
            raise RuntimeError("database down")

    def ids(self, call: int) -> list[uuid.UUID]:
        return [m.envelope.event_id for m in self.calls[call] if m.envelope]

    def handled(self) -> list[uuid.UUID]:
        """Event ids of the calls that succeeded, in call order."""
        return [i for n in range(self.failures, len(self.calls)) for i in self.ids(n)]


async def _consume_until(
    settings: CommonSettings, producer: AIOKafkaProducer, group: str, rec: Recorder, n: int
) -> None:
    async with consuming(settings, TOPIC, group=group, dead_letters=producer, handle_batch=rec,
                         retry_backoff_s=0.1):

        async def enough() -> bool:
            return len(rec.handled()) >= n

        await eventually(enough, timeout=30, what=f"{n} events handled")


async def test_a_failed_batch_is_delivered_again_whole_and_then_committed(
    common_settings: CommonSettings, unique: str
) -> None:
    settings = common_settings
    good = [team(n) for n in range(6)]
    # a leading poison record, then five good ones — all in the log before the consumer starts
    producer = await produce(settings, [NOT_JSON, *(encode(e) for e in good[:5])], key=KEY)
    try:
        rec = Recorder(failures=1)
        await _consume_until(settings, producer, f"batch{unique}", rec, 5)
        expected = [e.event_id for e in good[:5]]
        assert rec.ids(0) == expected, "one call with the whole poll, in offset order"
        assert rec.ids(1) == expected, "the failed batch came again, whole"
        assert rec.handled() == expected, "and nothing after it twice"
        offsets = [m.offset for m in rec.calls[1]]
        assert offsets == sorted(offsets) and len(set(m.partition for m in rec.calls[1])) == 1
        dead = await read_dead_letters(settings, 1)
        assert [int(dict(r.headers)["source_offset"]) for r in dead] == [offsets[0] - 1]

        # the success was committed: the same group, restarted, sees only what is new
        await producer.send_and_wait(settings.topic(TOPIC), value=encode(good[5]), key=KEY)
        again = Recorder()
        await _consume_until(settings, producer, f"batch{unique}", again, 1)
        assert again.handled() == [good[5].event_id]
    finally:
        await producer.stop()


@pytest.mark.parametrize("both", [True, False])
def test_exactly_one_of_handle_and_handle_batch(
    common_settings: CommonSettings, both: bool
) -> None:
    async def one(_: Message) -> None: ...

    async def many(_: list[Message]) -> None: ...

    extra: dict[str, Any] = {"handle": one, "handle_batch": many} if both else {}
    with pytest.raises(ValueError, match="exactly one"):
        EventConsumer(
            settings=common_settings,
            group_id="g",
            topics=[TOPIC],
            dead_letters=None,  # type: ignore[arg-type]
            **extra,
        )
