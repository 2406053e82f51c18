"""HTTP API of the dispatcher (port 8002)."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status

from baiying_dispatcher import incidents, queries, views
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import IncidentStatus, Need, Policy
from baiying_dispatcher.schemas import (
    CalloutOut,
    EndIn,
    HelpIn,
    IncidentIn,
    IncidentOut,
    ManualReplyIn,
    StatsOut,
)
from baiying_shared.auth import (
    AdminPrincipal,
    DutyDeskPrincipal,
    StaffPrincipal,
)
from baiying_shared.deps import Pool, app_settings
from baiying_shared.events.common import DistrictCode

router = APIRouter(prefix="/v1", tags=["dispatcher"])


def _command(body: IncidentIn) -> incidents.NewIncident:
    """The HTTP body as the domain command the service takes."""
    n, e = body.need, body.escalation
    return incidents.NewIncident(
        kind=body.kind, title=body.title, description=body.description,
        category=body.category, address=body.address, area=body.area, district=body.district,
        lat=body.location.lat, lon=body.location.lon, radius_m=body.radius_m,
        need=Need(total=(n.total or 0) if n else 0,
                  teams={t.value: c for t, c in n.teams.items()} if n else {},
                  skills=dict(n.skills) if n else {}),
        policy=Policy(rounds=e.rounds, widening=e.widening, wait_s=e.wait_s) if e else None,
        advice=body.advice, target_districts=tuple(body.districts) if body.districts else None,
        help_from=tuple(body.help_from or ()),
        request_hash=hashlib.sha256(body.model_dump_json().encode()).hexdigest(),
    )


Settings = Annotated[DispatcherSettings, Depends(app_settings)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
StatusFilter = Literal["mobilising", "staffed", "unmet", "issued", "cancelled", "closed"]


@router.post("/incidents", status_code=status.HTTP_201_CREATED)
async def raise_incident(
    body: IncidentIn, principal: DutyDeskPrincipal, pool: Pool, settings: Settings,
    response: Response, idempotency_key: IdempotencyKey = None,
) -> IncidentOut:
    """Raise an incident; the first round is called before this returns.

    Server-Timing says where the handler's time went: `check` (the command, the service
    area, a connection), `tx` (BEGIN to COMMIT), `view` (the rest, the record rendered).
    """
    marks = {"start": time.perf_counter()}
    cmd = _command(body)
    incidents.ensure_may_raise(principal, cmd)
    incident, replayed = await incidents.raise_incident(
        pool, settings=settings, principal=principal, cmd=cmd, idempotency_key=idempotency_key,
        marks=marks,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    async with pool.acquire() as conn:
        out = await views.incident_view(conn, incident)
    marks["end"] = time.perf_counter()
    response.headers["Server-Timing"] = server_timing(marks)
    return out


def server_timing(marks: dict[str, float]) -> str:
    """A Server-Timing value from perf_counter marks: start, begin, committed, end."""
    spans = (("check", "start", "begin"), ("tx", "begin", "committed"),
             ("view", "committed", "end"))
    return ", ".join(f"{name};dur={(marks[b] - marks[a]) * 1000:.3f}"
                     for name, a, b in spans if a in marks and b in marks)


@router.get("/incidents")
async def list_incidents(
    principal: StaffPrincipal, pool: Pool,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    district: DistrictCode | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IncidentOut]:
    """Incidents in the caller's districts, newest first."""
    scope = principal.districts_in_scope(district)
    async with pool.acquire() as conn:
        found = await queries.list_incidents(conn, districts=scope, status=status_, limit=limit)
        return await views.incidents_view(conn, found)


@router.get("/incidents/{incident_id}")
async def get_incident(
    incident_id: uuid.UUID, principal: StaffPrincipal, pool: Pool
) -> IncidentOut:
    async with pool.acquire() as conn:
        incident = await incidents.visible(conn, principal, incident_id)
        return await views.incident_view(conn, incident)


@router.get("/incidents/{incident_id}/callouts")
async def list_callouts(
    incident_id: uuid.UUID, principal: StaffPrincipal, pool: Pool
) -> list[CalloutOut]:
    """Call-outs by rank, for the map: state, distance, team type, point. Phones masked and
    points rounded, except to the incident's desk for those on the way (docs/desk_api.md)."""
    async with pool.acquire() as conn:
        incident = await incidents.visible(conn, principal, incident_id)
        return await views.callouts_view(conn, incident, principal)


@router.get("/incidents/{incident_id}/audit")
async def audit_trail(
    incident_id: uuid.UUID, principal: StaffPrincipal, pool: Pool
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        await incidents.visible(conn, principal, incident_id)
        rows = await conn.fetch(
            "SELECT at, actor, role, action, detail FROM audit_log WHERE incident_id = $1"
            " ORDER BY id", incident_id,
        )
    return [dict(r) for r in rows]


def _ender(target: IncidentStatus, doc: str) -> Callable[..., Awaitable[IncidentOut]]:
    """The route that cancels or closes (one body, two paths)."""
    async def end(
        incident_id: uuid.UUID, principal: StaffPrincipal, pool: Pool, settings: Settings,
        body: EndIn | None = None,
    ) -> IncidentOut:
        incident = await incidents.end_incident(
            pool, settings=settings, principal=principal, incident_id=incident_id,
            status=target, reason=body.reason if body else "",
        )
        async with pool.acquire() as conn:
            return await views.incident_view(conn, incident)

    end.__doc__ = doc
    return end


for _action, _target, _doc in (
    ("cancel", IncidentStatus.cancelled, "Cancel: everyone called or on the way is stood down."),
    ("close", IncidentStatus.closed,
     "Close: the job is done; those still on the way are stood down."),
):
    router.add_api_route(f"/incidents/{{incident_id}}/{_action}", _ender(_target, _doc),
                         methods=["POST"], name=f"{_action}_incident")


@router.post("/incidents/{incident_id}/help")
async def approve_help(
    incident_id: uuid.UUID, body: HelpIn, principal: AdminPrincipal, pool: Pool,
    settings: Settings,
) -> IncidentOut:
    """An admin lets the incident call people from more districts (audited on the timeline)."""
    incident = await incidents.approve_help(
        pool, settings=settings, principal=principal, incident_id=incident_id,
        districts=tuple(body.districts), reason=body.reason,
    )
    async with pool.acquire() as conn:
        return await views.incident_view(conn, incident)


@router.post("/incidents/{incident_id}/callouts/{callout_id}/reply")
async def manual_reply(
    incident_id: uuid.UUID, callout_id: uuid.UUID, body: ManualReplyIn,
    principal: StaffPrincipal, pool: Pool, settings: Settings,
) -> dict[str, str]:
    """Record a reply the volunteer gave by phone (audited)."""
    new = await incidents.manual_reply(
        pool, settings=settings, principal=principal, incident_id=incident_id,
        callout_id=callout_id, action=body.action, note=body.note,
    )
    return {"state": str(new)}


@router.get("/stats")
async def stats(
    principal: StaffPrincipal, pool: Pool, district: DistrictCode | None = None,
    since: datetime | None = None,
) -> StatsOut:
    """Acceptance rate and median time to accept, by team type and by district."""
    scope = principal.districts_in_scope(district)
    async with pool.acquire() as conn:
        return await views.stats_view(conn, districts=scope, since=since)
