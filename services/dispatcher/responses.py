"""What comes back from the notifier: delivery statuses and replies, in any order, once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_dispatcher import mobilise, outbound, repo
from baiying_dispatcher.areas import callback_number
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import (
    CalloutState,
    IncidentStatus,
    after_delivery,
    after_reply,
    delivery_is_newer,
)
from baiying_dispatcher.repo import Callout, Incident
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.logging import get_logger

log = get_logger(__name__)

_END_REASON: dict[IncidentStatus, outbound.StandDownReason] = {
    IncidentStatus.staffed: "staffed", IncidentStatus.cancelled: "cancelled",
    IncidentStatus.closed: "closed",
}


async def _load(
    conn: asyncpg.Connection[Any], *, incident_id: uuid.UUID, callout_id: uuid.UUID
) -> tuple[Incident, Callout] | None:
    # Incident first, then call-out: the same lock order as rounds and cancels.
    incident = await repo.get_incident(conn, incident_id, lock=True)
    callout = await repo.get_callout(conn, callout_id) if incident else None
    if incident is None or callout is None or callout.incident_id != incident.id:
        log.warning("status for unknown call-out", callout_id=str(callout_id))
        return None
    return incident, callout


async def on_delivery(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: DeliveryStatusChanged
) -> None:
    """Record delivery progress; a failed alert frees the slot like a decline."""
    loaded = await _load(conn, incident_id=event.incident_id, callout_id=event.callout_id)
    if loaded is None:
        return
    incident, callout = loaded
    if event.message == "alert" and delivery_is_newer(callout.delivery_status, event.status):
        await repo.set_delivery(conn, callout.id, status=event.status, error=event.error_code)
    new = after_delivery(callout.state, event.status, message=event.message)
    if new is None:
        return
    await repo.set_state(conn, [callout.id], new, at=event.at)
    await outbound.notify(conn, [outbound.callout_notice(incident, callout, new)])
    if new == CalloutState.failed and incident.kind == "callout":
        clock = mobilise.clock_for(settings, datetime.now(UTC))
        await mobilise.evaluate(conn, settings=settings, incident=incident, clock=clock)


async def on_reply(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: VolunteerReplied
) -> None:
    """Apply a volunteer's accept / decline / arrived."""
    loaded = await _load(conn, incident_id=event.incident_id, callout_id=event.callout_id)
    if loaded is None:
        return
    incident, callout = loaded
    await apply_reply(conn, settings=settings, incident=incident, callout=callout,
                      action=event.action, at=event.received_at)


async def apply_reply(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    callout: Callout, action: str, at: datetime,
) -> CalloutState | None:
    """Move the call-out, confirm or stand down the volunteer, then re-judge the incident."""
    if incident.kind != "callout":
        return None  # advisories expect no answer
    new = after_reply(callout.state, action, incident=incident.status)
    if new is None:
        return None
    at = max(at, callout.created_at)  # a skewed phone clock must not make negative latencies
    await repo.set_state(conn, [callout.id], new, at=at)
    if new == CalloutState.accepted:
        contact = callback_number(incident.district, callbacks=settings.dispatch_callbacks,
                                  default=settings.dispatch_contact)
        await outbound.confirm(conn, incident=incident, callout=callout, contact=contact)
    elif new == CalloutState.stood_down:
        reason = _END_REASON.get(incident.status, "expired")
        await outbound.stand_down(conn, incident=incident, callouts=[callout], reason=reason)
    if new in (CalloutState.accepted, CalloutState.arrived) and incident.first_accept_at is None:
        incident = await repo.update_incident(conn, incident.id, first_accept_at=at)
    await outbound.notify(conn, [outbound.callout_notice(incident, callout, new)])
    clock = mobilise.clock_for(settings, datetime.now(UTC))
    await mobilise.evaluate(conn, settings=settings, incident=incident, clock=clock)
    return new
