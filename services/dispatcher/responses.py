"""What comes back from the notifier: delivery statuses and replies, in any order, once each."""

from __future__ import annotations

from typing import Any

import asyncpg

from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.mobilisation import handlers

# apply_reply is re-exported for callers not yet moved to mobilisation.commands.
from baiying_dispatcher.mobilisation.commands import apply_reply as apply_reply
from baiying_dispatcher.mobilisation.commands import unit_of_work
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.logging import get_logger

log = get_logger(__name__)


async def on_delivery(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: DeliveryStatusChanged
) -> None:
    """Record delivery progress; a failed alert frees the slot like a decline."""
    async with unit_of_work(conn, settings) as uow:
        done = await handlers.delivery(
            uow, incident_id=event.incident_id, callout_id=event.callout_id, status=event.status,
            message=event.message, error=event.error_code, at=event.at,
            over_call=settings.dispatch_over_call_factor,
        )
    if done is None:
        log.warning("status for unknown call-out", callout_id=str(event.callout_id))


async def on_reply(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: VolunteerReplied
) -> None:
    """Apply a volunteer's accept / decline / arrived."""
    async with unit_of_work(conn, settings) as uow:
        done = await handlers.reply(
            uow, incident_id=event.incident_id, callout_id=event.callout_id,
            action=event.action, at=event.received_at,
            over_call=settings.dispatch_over_call_factor,
        )
    if done is None:
        log.warning("reply for unknown call-out", callout_id=str(event.callout_id))
