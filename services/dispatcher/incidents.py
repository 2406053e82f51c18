"""Service functions behind the write API: raise, cancel, close, a reply taken by hand."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from baiying_dispatcher import mobilise, outbound, repo
from baiying_dispatcher.areas import area_name, outside_service_area
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import ENDED, CalloutState, IncidentStatus, Need, Policy
from baiying_dispatcher.mobilisation.commands import apply_reply
from baiying_dispatcher.repo import Incident
from baiying_dispatcher.schemas import IncidentIn
from baiying_shared.auth import Principal
from baiying_shared.errors import Conflict, InvalidField, NotFound


def _policy(settings: DispatcherSettings, body: IncidentIn) -> Policy:
    if body.escalation:
        e = body.escalation
        return Policy(rounds=e.rounds, widening=e.widening, wait_s=e.wait_s)
    return Policy(rounds=settings.dispatch_rounds, widening=settings.dispatch_widening_factor,
                  wait_s=settings.dispatch_round_wait_s)


def _values(
    settings: DispatcherSettings, body: IncidentIn, *, principal: Principal, now: datetime
) -> dict[str, Any]:
    n = body.need
    need = Need(total=(n.total or 0) if n else 0,
                teams={t.value: c for t, c in n.teams.items()} if n else {},
                skills=dict(n.skills) if n else {})
    policy = _policy(settings, body)
    radius = body.radius_m or settings.dispatch_default_radius_m
    callout = body.kind == "callout"
    return {
        "kind": body.kind, "title": body.title, "description": body.description,
        "category": body.category, "address": body.address,
        "area": area_name(body.district, body.area), "district": body.district,
        "lat": body.location.lat, "lon": body.location.lon,
        "base_radius_m": radius, "radius_m": radius,
        "need": repo.need_json(need), "policy": repo.policy_json(policy),
        "advice": body.advice, "target_districts": body.districts,
        "status": (IncidentStatus.mobilising if callout else IncidentStatus.issued).value,
        "next_round_at": now + timedelta(seconds=policy.wait_s) if callout else None,
        "created_by": principal.sub,
        "request_hash": hashlib.sha256(body.model_dump_json().encode()).hexdigest(),
    }


async def raise_incident(
    pool: asyncpg.Pool[Any],
    *,
    settings: DispatcherSettings,
    principal: Principal,
    body: IncidentIn,
    idempotency_key: str | None,
) -> tuple[Incident, bool]:
    """Create the incident and, in the same transaction, its first round; True if replayed."""
    now = datetime.now(UTC)
    why = outside_service_area(body.location.lat, body.location.lon,
                               districts=principal.district_filter(),
                               margin_m=settings.dispatch_service_margin_m)
    if why:
        raise InvalidField("location", why)
    values = _values(settings, body, principal=principal, now=now)
    async with pool.acquire() as conn, conn.transaction():
        incident = await repo.insert_incident(conn, values=values, idempotency_key=idempotency_key)
        if incident is None:  # this key was used before: same request, same answer
            assert idempotency_key is not None
            return await _replay(conn, principal=principal, key=idempotency_key,
                                 request_hash=values["request_hash"]), True
        await repo.audit(conn, actor=principal.sub, role=principal.role, action="raise",
                         incident_id=incident.id,
                         detail={"title": body.title, "kind": body.kind,
                                 "need": values["need"], "district": body.district})
        if incident.kind == "callout":
            clock = mobilise.clock_for(settings, now)
            made = await mobilise.replenish(conn, settings=settings, incident=incident, clock=clock)
            if made:
                incident = await repo.update_incident(conn, incident.id, first_callout_at=now)
        else:
            await mobilise.fan_out_advisory(
                conn, settings=settings, incident=incident, clock=mobilise.clock_for(settings, now)
            )
            incident = await repo.update_incident(conn, incident.id, first_callout_at=now)
        await outbound.notify(conn, [outbound.incident_notice(incident)])
    return incident, False


async def _replay(
    conn: asyncpg.Connection[Any], *, principal: Principal, key: str, request_hash: str
) -> Incident:
    existing = await repo.find_by_key(conn, created_by=principal.sub, idempotency_key=key)
    if existing is None:
        raise Conflict("idempotency key in use")  # unreachable: the conflict row exists
    if existing.request_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request")
    return existing


async def end_incident(
    pool: asyncpg.Pool[Any],
    *,
    settings: DispatcherSettings,
    principal: Principal,
    incident_id: uuid.UUID,
    status: IncidentStatus,
    reason: str,
) -> Incident:
    """Cancel or close; everyone still called or on the way gets a stand-down."""
    async with pool.acquire() as conn, conn.transaction():
        incident = await _visible(conn, principal, incident_id, lock=True)
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
    pool: asyncpg.Pool[Any],
    *,
    settings: DispatcherSettings,
    principal: Principal,
    incident_id: uuid.UUID,
    callout_id: uuid.UUID,
    action: str,
    note: str,
) -> CalloutState | None:
    """Record a reply the volunteer gave by phone; audited as a manual change."""
    async with pool.acquire() as conn, conn.transaction():
        incident = await _visible(conn, principal, incident_id, lock=True)
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


async def _visible(
    conn: asyncpg.Connection[Any], principal: Principal, incident_id: uuid.UUID, *, lock: bool
) -> Incident:
    incident = await repo.get_incident(conn, incident_id, lock=lock)
    if incident is None or not principal.may_act_in(incident.district):
        # Another district's incident does not exist for you.
        raise NotFound(f"no incident {incident_id}")
    return incident
