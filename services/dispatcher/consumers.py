"""The dispatcher's handler maps: the registry's volunteers in, the notifier's news in."""

from __future__ import annotations

import uuid
from typing import Any

from baiying_dispatcher import index, responses
from baiying_dispatcher.config import DispatcherSettings
from baiying_shared.db import inbox
from baiying_shared.events import deliveries, replies, volunteers
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import Envelope
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.runtime import Runtime

INDEX_GROUP = "dispatcher-index"
RESPONSES_GROUP = "dispatcher"
CONSUMER = "dispatcher"


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """One group keeps the responder index, one applies deliveries and replies."""
    settings = rt.settings
    assert isinstance(settings, DispatcherSettings)
    pool = rt.pool

    async def on_snapshot(env: Envelope[Any]) -> None:
        # Revision-guarded upsert: replays and stale snapshots change nothing.
        async with pool.acquire() as conn:
            await index.apply_snapshots(conn, [env.payload])

    async def on_tombstone(key: str) -> None:
        async with pool.acquire() as conn:
            await index.remove(conn, volunteer_id=uuid.UUID(key))

    async def on_delivery(env: Envelope[Any]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            if await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
                await responses.on_delivery(conn, settings=settings, event=env.payload)

    async def on_reply(env: Envelope[Any]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            if await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
                await responses.on_reply(conn, settings=settings, event=env.payload)

    index_handlers = route({VolunteerSnapshot: on_snapshot},
                           tombstones={volunteers.TOPIC: on_tombstone})
    response_handlers = route({DeliveryStatusChanged: on_delivery, VolunteerReplied: on_reply})
    return [
        EventConsumer(settings=settings, group_id=INDEX_GROUP, topics=[volunteers.TOPIC],
                      handle=index_handlers, dead_letters=rt.producer),
        EventConsumer(settings=settings, group_id=RESPONSES_GROUP,
                      topics=[deliveries.TOPIC, replies.TOPIC],
                      handle=response_handlers, dead_letters=rt.producer),
    ]
