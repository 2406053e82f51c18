"""The notifier's consumer: dispatch.callouts.v1 as group "notifier"."""

from __future__ import annotations

from functools import partial

from baiying_notifier import intake
from baiying_shared.events import callouts
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.runtime import Runtime

GROUP = "notifier"


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    handle = route(
        {
            callouts.CalloutIssued: partial(intake.on_issued, rt.pool),
            callouts.CalloutConfirmed: partial(intake.on_confirmed, rt.pool),
            callouts.CalloutStoodDown: partial(intake.on_stood_down, rt.pool),
        }
    )
    return [
        EventConsumer(
            settings=rt.settings,
            group_id=GROUP,
            topics=[callouts.TOPIC],
            handle=handle,
            dead_letters=rt.producer,
        )
    ]
