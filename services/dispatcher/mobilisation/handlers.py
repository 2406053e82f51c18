"""One handler per command: load the aggregate, run the command, find people, commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.domain import COMMITTED, IncidentStatus
from baiying_dispatcher.mobilisation.advisory import Status
from baiying_dispatcher.mobilisation.aggregate import Incident
from baiying_dispatcher.mobilisation.unit_of_work import UnitOfWork
from baiying_dispatcher.repo import Incident as IncidentRow

COMMITTING = frozenset({"accept", "arrived"})  # replies that commit the volunteer


async def open_incident(
    uow: UnitOfWork, *, incident_id: uuid.UUID, over_call: float, advisory_max: int,
    inserted: IncidentRow | None = None,
) -> Incident | None:
    """Just raised: a call-out calls its first round, an advisory reaches its audience.

    `inserted`: the row as this transaction inserted it; nobody else sees it before commit
    and it has no call-outs yet, so it is taken as it is rather than loaded and locked again.
    """
    agg = Incident.of(inserted, ()) if inserted is not None else await uow.load(incident_id)
    if agg is None:
        return None
    agg.open()
    if agg.row.kind == "advisory":
        agg.advise(await uow.audience(agg, limit=advisory_max), now=uow.clock.now)
    return await _settle(uow, agg, over_call=over_call)


async def draw_on(
    uow: UnitOfWork, *, incident_id: uuid.UUID, districts: tuple[str, ...], over_call: float
) -> Incident | None:
    """Approved help from more districts: call their people for what is still missing."""
    agg = await uow.load(incident_id)
    if agg is None:
        return None
    agg.draw_on(districts, now=uow.clock.now)
    return await _settle(uow, agg, over_call=over_call)


@dataclass(frozen=True)
class Reply:
    """One volunteer's answer, as `reply` takes it."""

    callout_id: uuid.UUID
    action: str
    at: datetime


async def reply(
    uow: UnitOfWork, *, incident_id: uuid.UUID, callout_id: uuid.UUID, action: str,
    at: datetime, over_call: float,
) -> Incident | None:
    """A volunteer's accept / decline / arrived."""
    agg = await uow.load(incident_id)
    if agg is None or callout_id not in agg.callouts:
        return None
    return await _answer(uow, agg, Reply(callout_id, action, at), over_call=over_call)


async def replies(
    uow: UnitOfWork, *, incident_id: uuid.UUID, answers: Sequence[Reply], over_call: float,
) -> tuple[Incident | None, list[Reply]]:
    """Many replies to one incident, in order, on one loaded aggregate: each is applied and
    settled (and written) as `reply` would, without loading every call-out again.

    Returns the aggregate (None if there is no such incident) and the replies naming
    a call-out it does not have, which change nothing.
    """
    agg = await uow.load(incident_id)
    if agg is None:
        return None, list(answers)
    unknown: list[Reply] = []
    for answer in answers:
        if answer.callout_id in agg.callouts:
            await _answer(uow, agg, answer, over_call=over_call)
        else:
            unknown.append(answer)
    return agg, unknown


async def _answer(uow: UnitOfWork, agg: Incident, answer: Reply, *, over_call: float) -> Incident:
    callout_id, action, at = answer.callout_id, answer.action, answer.at
    incident_id = agg.row.id
    callout, held_by = agg.callouts[callout_id], None
    if action in COMMITTING and callout.state not in COMMITTED:
        # One commitment at a time: the holder check locks the volunteer, so two incidents'
        # simultaneous acceptances of one person are judged one after the other.
        held_by = await uow.holder(callout.volunteer_id, incident_id=incident_id)
    agg.apply_reply(callout_id=callout_id, action=action, at=at, now=uow.clock.now,
                    held_by=held_by)
    return await _settle(uow, agg, over_call=over_call)


async def delivery(
    uow: UnitOfWork, *, incident_id: uuid.UUID, callout_id: uuid.UUID, status: str,
    message: str, error: int | None, at: datetime, over_call: float,
) -> Incident | None:
    """A delivery status for one alert or confirmation."""
    agg = await uow.load(incident_id)
    if agg is None or callout_id not in agg.callouts:
        return None
    agg.apply_delivery(callout_id=callout_id, status=status, message=message, error=error,
                       at=at, now=uow.clock.now)
    return await _settle(uow, agg, over_call=over_call)


async def deliveries(
    uow: UnitOfWork, *, incident_id: uuid.UUID, statuses: Sequence[Status], over_call: float,
) -> list[uuid.UUID]:
    """Many statuses of one incident's messages, in order, on one loaded aggregate, each
    applied and settled as `delivery` would; the call-outs it does not know (all of them if
    there is no such incident)."""
    agg = await uow.load(incident_id)
    unknown: list[uuid.UUID] = []
    for s in statuses:
        if agg is None or s.callout_id not in agg.callouts:
            unknown.append(s.callout_id)
            continue
        agg.apply_delivery(callout_id=s.callout_id, status=s.status, message=s.message,
                           error=s.error, at=s.at, now=uow.clock.now)
        await _settle(uow, agg, over_call=over_call)
    return unknown


async def advance_round(
    uow: UnitOfWork, *, incident_id: uuid.UUID, expected_round: int, max_radius_m: int,
    over_call: float,
) -> Incident | None:
    """A round tick; None if it was stale (another tick, a reply or an end came first)."""
    agg = await uow.load(incident_id)
    if agg is None or not agg.advance_round(expected_round=expected_round, now=uow.clock.now,
                                            max_radius_m=max_radius_m):
        return None
    return await _settle(uow, agg, over_call=over_call)


async def end(
    uow: UnitOfWork, *, incident_id: uuid.UUID, status: IncidentStatus
) -> Incident | None:
    """Cancel or close."""
    agg = await uow.load(incident_id)
    if agg is None:
        return None
    agg.end(status=status, now=uow.clock.now)
    await uow.commit(agg)
    return agg


async def evaluate(uow: UnitOfWork, *, incident_id: uuid.UUID, over_call: float) -> Incident | None:
    """Re-judge an incident after a change: staff it or call replacements."""
    return await step(uow, incident_id=incident_id, over_call=over_call,
                      act=lambda agg: agg.evaluate(now=uow.clock.now))


async def step(
    uow: UnitOfWork, *, incident_id: uuid.UUID, over_call: float,
    act: Callable[[Incident], object],
) -> Incident | None:
    """A desk's next step: `act` runs one of the aggregate's commands, then people are found."""
    agg = await uow.load(incident_id)
    if agg is None:
        return None
    act(agg)
    return await _settle(uow, agg, over_call=over_call)


async def _settle(uow: UnitOfWork, agg: Incident, *, over_call: float) -> Incident:
    if agg.needs_people:
        agg.replenish(await select(uow, agg, over_call=over_call),
                      expires_at=agg.row.next_round_at, now=uow.clock.now)
    await uow.commit(agg)
    return agg


async def select(uow: UnitOfWork, agg: Incident, *, over_call: float) -> list[Candidate]:
    """For what is still missing, the next nearest not yet called (scarcest component first)."""
    picks: list[Candidate] = []
    exhausted: set[str] = set()
    while todo := agg.wants(over_call=over_call, picked=picks, exhausted=frozenset(exhausted)):
        want = todo[0]
        found = await uow.nearest(agg, want=want, exclude=[p.volunteer_id for p in picks])
        if len(found) < want.count:
            exhausted.add(want.component.key)  # nobody else fits within this radius
        picks += found
    return picks
