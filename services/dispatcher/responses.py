"""What comes back from the notifier: delivery statuses and replies, in any order, once each."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from baiying_dispatcher import outbound, repo
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import after_delivery, delivery_is_newer
from baiying_dispatcher.mobilisation import advisory_writer, handlers
from baiying_dispatcher.mobilisation.advisory import Status

# apply_reply is re-exported for callers not yet moved to mobilisation.commands.
from baiying_dispatcher.mobilisation.commands import apply_reply as apply_reply
from baiying_dispatcher.mobilisation.commands import unit_of_work
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.logging import get_logger

log = get_logger(__name__)


async def on_delivery(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, event: DeliveryStatusChanged,
    seen: dict[uuid.UUID, repo.Incident | None] | None = None,
) -> None:
    """Record delivery progress; a failed alert frees the slot like a decline.

    `seen`: incidents already read in this transaction (a poll of one advisory's thousands
    of statuses reads its row once); only which kind it is and its titles are taken from it.
    """
    if seen is not None and event.incident_id in seen:
        incident = seen[event.incident_id]
    else:
        incident = await repo.get_incident(conn, event.incident_id)
        if seen is not None:
            seen[event.incident_id] = incident
    if incident is not None and incident.kind == "advisory":
        await _advisory_delivery(conn, incident=incident, event=event)
        return
    async with unit_of_work(conn, settings) as uow:
        done = await handlers.delivery(
            uow, incident_id=event.incident_id, callout_id=event.callout_id, status=event.status,
            message=event.message, error=event.error_code, at=event.at,
            over_call=settings.dispatch_over_call_factor,
        )
    if done is None:
        log.warning("status for unknown call-out", callout_id=str(event.callout_id))


async def _advisory_delivery(
    conn: asyncpg.Connection[Any], *, incident: repo.Incident, event: DeliveryStatusChanged
) -> None:
    """An advisory has no quorum to judge: one row moves, without loading the aggregate.

    Loading every call-out for each status made a 2,000-person advisory's statuses quadratic
    (seconds each), and call-outs' statuses queued behind them on the same partitions.
    """
    callout = await repo.get_callout(conn, event.callout_id)  # locks the one row
    if callout is None or callout.incident_id != incident.id:
        log.warning("status for unknown call-out", callout_id=str(event.callout_id))
        return
    if event.message == "alert" and delivery_is_newer(callout.delivery_status, event.status):
        await repo.set_delivery(conn, callout.id, status=event.status, error=event.error_code)
    new = after_delivery(callout.state, event.status, message=event.message)
    if new is not None:
        await repo.set_state(conn, [callout.id], new, at=event.at)
        await outbound.notify(conn, [outbound.callout_notice(incident, callout, new)],
                              covers={str(incident.id): None})  # an advisory: no quorum


async def on_replies(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident_id: uuid.UUID,
    events: Sequence[VolunteerReplied],
) -> None:
    """Replies to one incident, in order, in one unit of work: the incident and its call-outs
    are loaded (and locked) once, not once a reply; outcomes as handlers.reply one by one."""
    answers = [handlers.Reply(e.callout_id, e.action, e.received_at) for e in events]
    async with _joined(conn, settings) as uow:
        _, unknown = await handlers.replies(
            uow, incident_id=incident_id, answers=answers,
            over_call=settings.dispatch_over_call_factor,
        )
    for answer in unknown:
        log.warning("reply for unknown call-out", callout_id=str(answer.callout_id))


async def on_deliveries(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident_id: uuid.UUID,
    events: Sequence[DeliveryStatusChanged],
) -> None:
    """Statuses of one incident's messages, in order: an advisory's set-based, a call-out's
    on one loaded aggregate (its call-outs loaded once, not once a status)."""
    incident = await repo.get_incident(conn, incident_id)
    if incident is not None and incident.kind == "advisory":  # set-based, as the bulk lane
        await _advisory_statuses(conn, {incident_id: incident},
                                 [(e.incident_id, _status(e)) for e in events])
        return
    if incident is None:
        seen: dict[uuid.UUID, repo.Incident | None] = {incident_id: incident}
        for event in events:
            await on_delivery(conn, settings=settings, event=event, seen=seen)
        return
    statuses = [_status(e) for e in events]
    async with _joined(conn, settings) as uow:
        unknown = await handlers.deliveries(uow, incident_id=incident_id, statuses=statuses,
                                            over_call=settings.dispatch_over_call_factor)
    for callout_id in unknown:
        log.warning("status for unknown call-out", callout_id=str(callout_id))


async def on_bulk_statuses(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings,
    events: Sequence[DeliveryStatusChanged],
    incidents: dict[uuid.UUID, repo.Incident] | None = None,
) -> None:
    """A bulk poll's statuses (already claimed), set-based: the incidents read in one
    statement (or given: read with the claim), advisories' statuses replayed and written in
    one (advisory_writer); any other incident's (the bulk lane carries call-outs' only by
    mistake) through its aggregate."""
    if incidents is None:
        incidents = await repo.incidents_by_id(conn, list({e.incident_id for e in events}))
    advisories = {i: inc for i, inc in incidents.items() if inc.kind == "advisory"}
    mine: list[tuple[uuid.UUID, Status]] = []
    others: dict[uuid.UUID, list[DeliveryStatusChanged]] = {}
    for e in events:
        if e.incident_id in advisories:
            mine.append((e.incident_id, _status(e)))
        else:
            others.setdefault(e.incident_id, []).append(e)
    if mine:
        await _advisory_statuses(conn, advisories, mine)
    for incident_id, run in others.items():
        await on_deliveries(conn, settings=settings, incident_id=incident_id, events=run)


def _joined(conn: asyncpg.Connection[Any], settings: DispatcherSettings) -> PgUnitOfWork:
    """A batch unit of work in the consumer's transaction (which also holds the inbox claim)
    without a savepoint of its own: SAVEPOINT and RELEASE were two of a reply's round trips,
    each waiting its turn on a loop busy with an advisory's statuses. Either way a failure
    rolls the whole poll back with its claims; outside a transaction, one of its own."""
    return unit_of_work(conn, settings, join=conn.is_in_transaction(), batch=True)


def _status(e: DeliveryStatusChanged) -> Status:
    return Status(e.callout_id, e.status, e.message, e.error_code, e.at)


async def _advisory_statuses(
    conn: asyncpg.Connection[Any], advisories: dict[uuid.UUID, repo.Incident],
    statuses: list[tuple[uuid.UUID, Status]],
) -> None:
    unknown = await advisory_writer.apply(conn, incidents=advisories, statuses=statuses)
    for callout_id in unknown:
        log.warning("status for unknown call-out", callout_id=str(callout_id))
