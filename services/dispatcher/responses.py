"""What comes back from the notifier: delivery statuses and replies, in any order, once each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_dispatcher import mobilise
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import CalloutState
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_dispatcher.repo import Callout, Incident
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.logging import get_logger

log = get_logger(__name__)


def _unit_of_work(
    conn: asyncpg.Connection[Any], settings: DispatcherSettings
) -> PgUnitOfWork:
    return PgUnitOfWork(conn, settings=settings,
                        clock=mobilise.clock_for(settings, datetime.now(UTC)))


async def on_delivery(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: DeliveryStatusChanged
) -> None:
    """Record delivery progress; a failed alert frees the slot like a decline."""
    async with _unit_of_work(conn, settings) as uow:
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
    async with _unit_of_work(conn, settings) as uow:
        done = await handlers.reply(
            uow, incident_id=event.incident_id, callout_id=event.callout_id,
            action=event.action, at=event.received_at,
            over_call=settings.dispatch_over_call_factor,
        )
    if done is None:
        log.warning("reply for unknown call-out", callout_id=str(event.callout_id))


async def apply_reply(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    callout: Callout, action: str, at: datetime,
) -> CalloutState | None:
    """Move the call-out, confirm or stand down the volunteer, then re-judge the incident."""
    async with _unit_of_work(conn, settings) as uow:
        done = await handlers.reply(
            uow, incident_id=incident.id, callout_id=callout.id, action=action, at=at,
            over_call=settings.dispatch_over_call_factor,
        )
    after = done.callouts[callout.id].state if done else callout.state
    return None if after == callout.state else after
