"""The notifier's consumer: dispatch.callouts.v1 as group "notifier", a poll at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from baiying_notifier import intake
from baiying_shared.deps import PgPool
from baiying_shared.events import callouts
from baiying_shared.kafka.consumer import EventConsumer, Message
from baiying_shared.runtime import Runtime

GROUP = "notifier"


# The notifier's one handler map, batch variant: topic -> handler(pool, envelopes of a poll).
# Per payload class the batch is split again in intake.HANDLERS.
BATCH_HANDLERS: dict[str, Callable[[PgPool, list[Message]], Awaitable[None]]] = {
    callouts.TOPIC: intake.on_batch,
}


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """One consumer per topic in BATCH_HANDLERS, as group "notifier"."""
    return [
        EventConsumer(
            settings=rt.settings,
            group_id=GROUP,
            topics=[topic],
            handle_batch=partial(handler, rt.pool),
            dead_letters=rt.producer,
        )
        for topic, handler in BATCH_HANDLERS.items()
    ]
