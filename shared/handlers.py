"""Typed handler maps: route each consumed payload class to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from baiying_shared.events.envelope import Envelope, Payload
from baiying_shared.kafka.consumer import Handler, Message
from baiying_shared.logging import get_logger

log = get_logger(__name__)

EnvelopeHandler = Callable[[Envelope[Any]], Awaitable[None]]
TombstoneHandler = Callable[[str], Awaitable[None]]


def route(
    handlers: Mapping[type[Payload], EnvelopeHandler],
    *,
    tombstones: Mapping[str, TombstoneHandler] | None = None,
) -> Handler:
    """Build a consumer handler from {payload class: handler} and {topic: tombstone handler}."""

    async def handle(message: Message) -> None:
        if message.envelope is None:
            on_delete = (tombstones or {}).get(message.topic)
            if on_delete and message.key:
                await on_delete(message.key)
            return
        handler = handlers.get(type(message.envelope.payload))
        if handler is None:
            log.debug("no handler", type=message.envelope.type)
            return
        await handler(message.envelope)

    return handle
