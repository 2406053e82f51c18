"""Service functions behind the write API: raise, cancel, close, help, a reply taken by hand.

They take domain commands (`NewIncident`), never the HTTP schemas; the edge translates.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from baiying_dispatcher import mobilise, repo
from baiying_dispatcher.areas import area_name, outside_service_area
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import ENDED, CalloutState, IncidentStatus, Need, Policy
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.commands import apply_reply, unit_of_work
from baiying_dispatcher.repo import Incident
from baiying_shared.auth import Principal
from baiying_shared.errors import Conflict, Forbidden, InvalidField, NotFound


@dataclass(frozen=True)
class NewIncident:
    """What a desk raises: a call-out (with a need) or an advisory (with advice)."""

    kind: str
    title: str
    description: str
    category: str
    address: str
    area: str | None
    district: str
    lat: float
    lon: float
    radius_m: int | None
    need: Need
    policy: Policy | None  # None: the configured escalation
    advice: str | None
    target_districts: tuple[str, ...] | None  # advisory: districts to reach (else the radius)
    help_from: tuple[str, ...] = ()  # call-out: neighbouring districts whose people may come
    request_hash: str | None = None  # an idempotent replay must be the same request


def ensure_may_raise(principal: Principal, cmd: NewIncident) -> None:
    """403 unless the desk holds the district, every advisory target and every helper district."""
    principal.ensure_district(cmd.district)
    for district in cmd.target_districts or ():
        principal.ensure_district(district)
    for district in cmd.help_from:
        if not principal.may_act_in(district):
            raise Forbidden(f"help_from: you do not hold district {district};"
                            " an admin may approve its help")


def _values(
    settings: DispatcherSettings, cmd: NewIncident, *, principal: Principal, now: datetime
) -> dict[str, Any]:
    policy = cmd.policy or Policy(rounds=settings.dispatch_rounds,
                                  widening=settings.dispatch_widening_factor,
                                  wait_s=settings.dispatch_round_wait_s)
    radius = cmd.radius_m or settings.dispatch_default_radius_m
    callout = cmd.kind == "callout"
    return {
        "kind": cmd.kind, "title": cmd.title, "description": cmd.description,
        "category": cmd.category, "address": cmd.address,
        "area": area_name(cmd.district, cmd.area), "district": cmd.district,
        "lat": cmd.lat, "lon": cmd.lon, "base_radius_m": radius, "radius_m": radius,
        "need": repo.need_json(cmd.need), "policy": repo.policy_json(policy),
        "advice": cmd.advice,
        "target_districts": list(cmd.target_districts) if cmd.target_districts else None,
        "draw_districts": list(dict.fromkeys([cmd.district, *cmd.help_from])),
        "status": (IncidentStatus.mobilising if callout else IncidentStatus.issued).value,
        "next_round_at": now + timedelta(seconds=policy.wait_s) if callout else None,
        "created_by": principal.sub, "request_hash": cmd.request_hash,
    }


async def insert_and_call(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, principal: Principal,
    cmd: NewIncident, idempotency_key: str | None, now: datetime,
    audit: repo.AuditEntry | None = None,
) -> Incident | None:
    """Insert the incident (and its `audit` row) and, through the aggregate, call its first
    round (or fan out the advisory) in the caller's transaction, which every error here
    aborts; None if `idempotency_key` was used before."""
    values = _values(settings, cmd, principal=principal, now=now)
    incident = await repo.insert_incident(conn, values=values, idempotency_key=idempotency_key,
                                          audit=audit)
    if incident is None:
        return None
    async with unit_of_work(conn, settings, now=now, join=True) as uow:
        agg = await handlers.open_incident(uow, incident_id=incident.id, inserted=incident,
                                           over_call=settings.dispatch_over_call_factor,
                                           advisory_max=settings.dispatch_advisory_max)
    return agg.row if agg else incident


def _raise_audit(principal: Principal, cmd: NewIncident) -> repo.AuditEntry:
    detail = {"title": cmd.title, "kind": cmd.kind, "need": repo.need_json(cmd.need),
              "district": cmd.district}
    if cmd.help_from:
        detail["help_from"] = list(cmd.help_from)
    return repo.AuditEntry(actor=principal.sub, role=principal.role, action="raise",
                           detail=detail)


async def raise_incident(
    pool: asyncpg.Pool[Any], *, settings: DispatcherSettings, principal: Principal,
    cmd: NewIncident, idempotency_key: str | None, marks: dict[str, float] | None = None,
) -> tuple[Incident, bool]:
    """Create the incident and, in the same transaction, its first round; True if replayed.

    `marks` gets the perf_counter() moments the transaction began and committed (the POST's
    Server-Timing header, which bench/raise_to_sms.py breaks the raise down by).
    """
    now, stamp = datetime.now(UTC), marks if marks is not None else {}
    why = outside_service_area(cmd.lat, cmd.lon, districts=principal.district_filter(),
                               margin_m=settings.dispatch_service_margin_m)
    if why:
        raise InvalidField("location", why)
    async with pool.acquire() as conn:
        stamp["begin"] = time.perf_counter()
        async with conn.transaction():
            incident = await insert_and_call(
                conn, settings=settings, principal=principal, cmd=cmd,
                idempotency_key=idempotency_key, now=now, audit=_raise_audit(principal, cmd))
            if incident is None:  # this key was used before: same request, same answer
                assert idempotency_key is not None
                return await _replay(conn, principal=principal, key=idempotency_key,
                                     request_hash=cmd.request_hash), True
        stamp["committed"] = time.perf_counter()
    return incident, False


async def _replay(
    conn: asyncpg.Connection[Any], *, principal: Principal, key: str, request_hash: str | None
) -> Incident:
    existing = await repo.find_by_key(conn, created_by=principal.sub, idempotency_key=key)
    if existing is None:
        raise Conflict("idempotency key in use")  # unreachable: the conflict row exists
    if existing.request_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request")
    return existing


async def approve_help(
    pool: asyncpg.Pool[Any], *, settings: DispatcherSettings, principal: Principal,
    incident_id: uuid.UUID, districts: tuple[str, ...], reason: str,
) -> Incident:
    """An admin lets the incident draw on more districts (audited); the shortfall is called."""
    async with pool.acquire() as conn, conn.transaction():
        await visible(conn, principal, incident_id, lock=True)
        async with unit_of_work(conn, settings) as uow:
            agg = await handlers.draw_on(uow, incident_id=incident_id, districts=districts,
                                         over_call=settings.dispatch_over_call_factor)
        assert agg is not None  # visible() found it under the same lock
        await repo.audit(conn, actor=principal.sub, role=principal.role, action="approve_help",
                         incident_id=incident_id,
                         detail={"districts": list(districts), "reason": reason})
    return agg.row


async def end_incident(
    pool: asyncpg.Pool[Any], *, settings: DispatcherSettings, principal: Principal,
    incident_id: uuid.UUID, status: IncidentStatus, reason: str,
) -> Incident:
    """Cancel or close; everyone still called or on the way gets a stand-down."""
    async with pool.acquire() as conn, conn.transaction():
        incident = await visible(conn, principal, incident_id, lock=True, act=True)
        if incident.status in ENDED:
            if incident.status == status:
                return incident  # repeating a cancel is harmless
            raise Conflict(f"incident is already {incident.status.value}")
        clock = mobilise.clock_for(settings, datetime.now(UTC))
        incident = await mobilise.end(conn, incident=incident, status=status, clock=clock)
        action = "cancel" if status == IncidentStatus.cancelled else "close"
        await repo.audit(conn, actor=principal.sub, role=principal.role, action=action,
                         incident_id=incident.id, detail={"reason": reason})
    return incident


async def manual_reply(
    pool: asyncpg.Pool[Any], *, settings: DispatcherSettings, principal: Principal,
    incident_id: uuid.UUID, callout_id: uuid.UUID, action: str, note: str,
) -> CalloutState | None:
    """Record a reply the volunteer gave by phone; audited as a manual change."""
    async with pool.acquire() as conn, conn.transaction():
        incident = await visible(conn, principal, incident_id, lock=True, act=True)
        callout = await repo.get_callout(conn, callout_id)
        if callout is None or callout.incident_id != incident.id:
            raise NotFound(str(callout_id))
        new = await apply_reply(conn, settings=settings, incident=incident, callout=callout,
                                action=action, at=datetime.now(UTC))
        if new is None:
            raise Conflict(f"cannot {action} a call-out that is {callout.state.value}")
        await repo.audit(conn, actor=principal.sub, role=principal.role, action="manual_change",
                         incident_id=incident.id,
                         detail={"callout_id": str(callout_id), "action": action,
                                 "from": callout.state.value, "to": new.value, "note": note})
    return new


async def visible(
    conn: asyncpg.Connection[Any], principal: Principal, incident_id: uuid.UUID, *,
    lock: bool = False, act: bool = False,
) -> Incident:
    """The incident if the caller may see it (`act`: change it), else NotFound.

    Supervisors of every district the incident draws people from see it; only its own
    district acts on it. Another district's incident does not exist for you.
    """
    incident = await repo.get_incident(conn, incident_id, lock=lock)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    seen = (incident.district,) if act else incident.draw_districts
    if not any(principal.may_act_in(d) for d in seen):
        raise NotFound(f"no incident {incident_id}")
    return incident
