"""Next steps on a short or unmet call: the duty desk's moves, each audited on the timeline.

Every step runs in one transaction with the incident row locked, so a step and the round
timer never interleave; each writes an audit row (`next_step:<action>`) the timeline shows.
Only a duty desk of the incident's district may take them (the API enforces the role;
another district's incident does not exist for the caller).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from baiying_dispatcher import incidents, mobilise, outbound, repo
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import OUTSTANDING, IncidentStatus, Need
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.aggregate import Incident as Aggregate
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_dispatcher.repo import Incident
from baiying_dispatcher.responses import apply_reply
from baiying_dispatcher.schemas import NeedIn
from baiying_shared.auth import Principal
from baiying_shared.errors import InvalidField

Action = Literal["another_round", "widen", "change_need", "extend", "phoned_reply", "advisory"]
# Which steps make sense in which state: a staffed call may still need more people.
OFFERED: dict[IncidentStatus, tuple[Action, ...]] = {
    IncidentStatus.mobilising: ("another_round", "widen", "change_need", "extend",
                                "phoned_reply", "advisory"),
    IncidentStatus.unmet: ("another_round", "widen", "change_need", "extend", "phoned_reply",
                           "advisory"),
    IncidentStatus.staffed: ("change_need", "phoned_reply"),
}


class _Step(BaseModel):
    """A step's body: its `action` names it; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class AnotherRound(_Step):
    action: Literal["another_round"]


class Widen(_Step):
    action: Literal["widen"]
    radius_m: int = Field(ge=50, le=100_000, description="the new radius, wider than now")


class ChangeNeed(_Step):
    action: Literal["change_need"]
    need: NeedIn


class Extend(_Step):
    action: Literal["extend"]
    minutes: int = Field(ge=1, le=240, description="how much longer to wait for answers")


class PhonedReply(_Step):
    action: Literal["phoned_reply"]
    volunteer_id: uuid.UUID
    reply: Literal["accept", "decline", "arrived"]
    note: str = Field(default="", max_length=500)


class ToAdvisory(_Step):
    action: Literal["advisory"]
    advice: str = Field(min_length=1, max_length=1000)


StepIn = Annotated[
    AnotherRound | Widen | ChangeNeed | Extend | PhonedReply | ToAdvisory,
    Field(discriminator="action"),
]


class NotFound(Exception):
    pass


class Refused(Exception):
    """The step does not fit the incident's state (409) — the message says why."""


def offered(incident: Incident) -> tuple[Action, ...]:
    """The steps a desk may take on this incident now (the buttons to show)."""
    return OFFERED.get(incident.status, ()) if incident.kind == "callout" else ()


async def take(
    pool: asyncpg.Pool[Any], *, settings: DispatcherSettings, principal: Principal,
    incident_id: uuid.UUID, step: StepIn,
) -> tuple[Incident, dict[str, Any]]:
    """Take one step; returns the incident afterwards (for advisory: the new notice) and the
    audited detail."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        incident = await repo.get_incident(conn, incident_id, lock=True)
        if incident is None or not principal.may_act_in(incident.district):
            raise NotFound(str(incident_id))
        if step.action not in offered(incident):
            raise Refused(f"{step.action} is not possible on a {incident.kind} that is "
                          f"{incident.status.value}")
        ctx = _Ctx(conn, settings, principal, now)
        result, detail = await _HANDLERS[step.action](ctx, incident, step)
        await repo.audit(conn, actor=principal.sub, role=principal.role,
                         action=f"next_step:{step.action}", incident_id=incident.id,
                         detail=detail)
        # The timeline line goes live too: supervisors see the step as it is taken.
        step_notice = {"type": "step", "incident_id": str(incident.id),
                       "district": incident.district,
                       "districts": list(incident.draw_districts), "action": step.action,
                       "actor": principal.sub, "at": now.isoformat(), "detail": detail}
        await outbound.notify(conn, [outbound.incident_notice(result), step_notice])
    return result, detail


class _Ctx:
    def __init__(self, conn: asyncpg.Connection[Any], settings: DispatcherSettings,
                 principal: Principal, now: datetime) -> None:
        self.conn, self.settings, self.principal, self.now = conn, settings, principal, now
        self.clock = mobilise.clock_for(settings, now)


async def _act(ctx: _Ctx, incident: Incident, act: Callable[[Aggregate], object]) -> Incident:
    """Run one aggregate command for this step and settle it (people found, rows, events and
    notices written from its change records)."""
    async with PgUnitOfWork(ctx.conn, settings=ctx.settings, clock=ctx.clock) as uow:
        agg = await handlers.step(uow, incident_id=incident.id, act=act,
                                  over_call=ctx.settings.dispatch_over_call_factor)
    assert agg is not None  # take() holds the incident's row lock
    return agg.row


async def _another_round(ctx: _Ctx, incident: Incident, _: Any) -> tuple[Incident, dict[str, Any]]:
    # Like the timer's round, now: silence becomes no_answer, so the next nearest are called.
    silent = await repo.callouts_of(ctx.conn, incident_id=incident.id, states=list(OUTSTANDING))
    after = await _act(ctx, incident, lambda agg: agg.remobilise(
        now=ctx.now, call=True, silence=True, round=incident.round + 1))
    return after, {"round": after.round, "silent": len(silent)}


async def _widen(ctx: _Ctx, incident: Incident, step: Widen) -> tuple[Incident, dict[str, Any]]:
    if step.radius_m <= incident.radius_m:
        raise InvalidField("radius_m", f"{step.radius_m} is not wider than {incident.radius_m}")
    if step.radius_m > ctx.settings.dispatch_max_radius_m:
        raise InvalidField("radius_m", f"at most {ctx.settings.dispatch_max_radius_m}")
    after = await _act(ctx, incident, lambda agg: agg.remobilise(
        now=ctx.now, call=True, radius_m=step.radius_m))
    return after, {"from_m": incident.radius_m, "to_m": step.radius_m}


async def _change_need(
    ctx: _Ctx, incident: Incident, step: ChangeNeed
) -> tuple[Incident, dict[str, Any]]:
    n = step.need
    need = Need(total=n.total or 0, teams={t.value: c for t, c in n.teams.items()},
                skills=dict(n.skills))
    if incident.status == IncidentStatus.staffed:
        after = await _act(ctx, incident, lambda agg: agg.change_need(need, now=ctx.now))
    else:
        after = await _act(ctx, incident, lambda agg: agg.remobilise(
            now=ctx.now, call=True, need=need))
    return after, {"from": repo.need_json(incident.need), "to": repo.need_json(need)}


async def _extend(ctx: _Ctx, incident: Incident, step: Extend) -> tuple[Incident, dict[str, Any]]:
    base = max(ctx.now, incident.next_round_at or ctx.now)
    until = base + timedelta(minutes=step.minutes)

    def extend(agg: Aggregate) -> None:
        if agg.row.status == IncidentStatus.unmet:
            agg.remobilise(now=ctx.now, call=False)  # wait for late answers again
        agg.extend(until)

    after = await _act(ctx, incident, extend)
    return after, {"minutes": step.minutes, "until": until.isoformat()}


async def _phoned_reply(
    ctx: _Ctx, incident: Incident, step: PhonedReply
) -> tuple[Incident, dict[str, Any]]:
    mine = [c for c in await repo.callouts_of(ctx.conn, incident_id=incident.id)
            if c.volunteer_id == step.volunteer_id]
    if not mine:
        raise NotFound(f"volunteer {step.volunteer_id} was not called for this incident")
    callout = mine[-1]
    new = await apply_reply(ctx.conn, settings=ctx.settings, incident=incident, callout=callout,
                            action=step.reply, at=ctx.now)
    if new is None:
        raise Refused(f"reply: cannot {step.reply} a call-out that is {callout.state.value}")
    after = await repo.get_incident(ctx.conn, incident.id)
    assert after is not None
    return after, {"volunteer_id": str(step.volunteer_id), "name": callout.name,
                   "reply": step.reply, "from": callout.state.value, "to": new.value,
                   "note": step.note}


async def _advisory(
    ctx: _Ctx, incident: Incident, step: ToAdvisory
) -> tuple[Incident, dict[str, Any]]:
    # The call-out ends (everyone called or on the way is stood down) and a prevention
    # notice to the same area takes its place, in the same transaction.
    await mobilise.end(ctx.conn, incident=incident, status=IncidentStatus.closed, clock=ctx.clock)
    cmd = incidents.NewIncident(
        kind="advisory", title=incident.title, description=incident.description,
        category=incident.category, address=incident.address,
        area=incident.area,  # already "district + 片区", kept as it is
        district=incident.district, lat=incident.lat, lon=incident.lon,
        radius_m=incident.radius_m, need=Need(), policy=None, advice=step.advice,
        target_districts=None,
    )
    notice = await incidents.insert_and_call(ctx.conn, settings=ctx.settings,
                                             principal=ctx.principal, cmd=cmd,
                                             idempotency_key=None, now=ctx.now)
    assert notice is not None
    sent = await repo.max_rank(ctx.conn, notice.id)  # an advisory ranks its audience 1..n
    await repo.audit(ctx.conn, actor=ctx.principal.sub, role=ctx.principal.role, action="raise",
                     incident_id=notice.id,
                     detail={"from_incident": str(incident.id), "kind": "advisory"})
    return notice, {"advisory_id": str(notice.id), "recipients": sent}


_HANDLERS: dict[str, Any] = {
    "another_round": _another_round, "widen": _widen, "change_need": _change_need,
    "extend": _extend, "phoned_reply": _phoned_reply, "advisory": _advisory,
}
