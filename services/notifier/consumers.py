"""The notifier's consumer: dispatch.callouts.v1 as group "notifier", a poll at a time."""

from __future__ import annotations

from functools import partial

from baiying_notifier import intake
from baiying_shared.events import callouts
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.runtime import Runtime

GROUP = "notifier"


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    return [
        EventConsumer(
            settings=rt.settings,
            group_id=GROUP,
            topics=[callouts.TOPIC],
            handle_batch=partial(intake.on_batch, rt.pool),
            dead_letters=rt.producer,
        )
    ]
