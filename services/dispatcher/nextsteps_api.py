"""HTTP for the desk's next steps: what is offered now, and taking one (duty desk only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import BaseModel

from baiying_dispatcher import nextsteps, repo, views
from baiying_dispatcher.api import Settings
from baiying_dispatcher.schemas import IncidentOut
from baiying_shared.auth import DutyDeskPrincipal
from baiying_shared.deps import Pool

router = APIRouter(prefix="/v1", tags=["next steps"])


class OfferedOut(BaseModel):
    status: str
    offered: list[nextsteps.Action]


class StepOut(BaseModel):
    action: nextsteps.Action
    detail: dict[str, Any]
    incident: IncidentOut  # for `advisory`, the new notice (detail names both)


@router.get("/incidents/{incident_id}/next-steps")
async def offered(incident_id: uuid.UUID, principal: DutyDeskPrincipal, pool: Pool) -> OfferedOut:
    """The steps this desk may take on the incident now (the buttons to show)."""
    async with pool.acquire() as conn:
        incident = await repo.get_incident(conn, incident_id)
    if incident is None or not principal.may_act_in(incident.district):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id}")
    return OfferedOut(status=incident.status.value, offered=list(nextsteps.offered(incident)))


@router.post("/incidents/{incident_id}/next-steps")
async def take_step(
    incident_id: uuid.UUID, step: Annotated[nextsteps.StepIn, Body()],
    principal: DutyDeskPrincipal, pool: Pool, settings: Settings,
) -> StepOut:
    """Another round, a wider radius, a changed need, more time, a phoned-in reply, or an
    advisory instead; audited as `next_step:<action>`."""
    try:
        incident, detail = await nextsteps.take(pool, settings=settings, principal=principal,
                                                incident_id=incident_id, step=step)
    except nextsteps.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except nextsteps.Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    async with pool.acquire() as conn:
        out = await views.incident_view(conn, incident)
    return StepOut(action=step.action, detail=detail, incident=out)
