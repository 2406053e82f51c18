"""Campaign HTTP API (以案说防): create, dry run, list, read with runs, cancel, reach.

Desk and supervisor act on campaigns of their own districts; admin on all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.prevention import campaign_reach, campaign_repo, campaign_service
from baiying_dispatcher.prevention.campaign_model import AudienceIn, CampaignIn, ScheduleIn
from baiying_dispatcher.prevention.campaign_reach import ReachRow
from baiying_dispatcher.prevention.campaign_repo import Campaign, Run
from baiying_shared.auth import StaffPrincipal
from baiying_shared.deps import Pool, app_settings

router = APIRouter(tags=["prevention"])
Settings = Annotated[DispatcherSettings, Depends(app_settings)]
BASE = "/v1/campaigns"


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    case_id: uuid.UUID | None
    title_zh: str
    advice_zh: str
    title_en: str
    advice_en: str
    audience: AudienceIn
    schedule: ScheduleIn
    districts: list[str]
    status: str
    next_run_at: datetime | None
    created_by: str
    created_at: datetime
    runs: list[Run] = []  # in the detail only

    @classmethod
    def of(cls, c: Campaign, runs: list[Run] | None = None) -> CampaignOut:
        return cls(id=c.id, name=c.name, case_id=c.case_id, audience=c.audience,
                   schedule=c.schedule, districts=c.districts, status=c.status,
                   next_run_at=c.next_run_at, created_by=c.created_by,
                   created_at=c.created_at, runs=runs or [],
                   **c.texts)


class DryRunOut(BaseModel):
    volunteers: int
    residents_estimate: int | None
    segments_per_message: int
    total_segments: int
    carrier_seconds: float
    first_send_at: datetime
    quiet_hours_skipped: int


class ReachOut(BaseModel):
    campaign_id: uuid.UUID
    rows: list[ReachRow]


@router.post(BASE, status_code=status.HTTP_201_CREATED)
async def create(body: CampaignIn, principal: StaffPrincipal, pool: Pool,
                 settings: Settings) -> CampaignOut:
    """Save a campaign; the scheduler fires its runs (a "now" one within a tick)."""
    async with pool.acquire() as conn, conn.transaction():
        c = await campaign_service.draft(conn, body=body, principal=principal,
                                         now=datetime.now(UTC), settings=settings)
        await campaign_repo.insert(conn, c)
    return CampaignOut.of(c)


@router.post(BASE + ":dry-run")
async def dry_run(body: CampaignIn, principal: StaffPrincipal, pool: Pool,
                  settings: Settings) -> DryRunOut:
    """The first run's audience and carrier cost, sending nothing."""
    async with pool.acquire() as conn:
        c = await campaign_service.draft(conn, body=body, principal=principal,
                                         now=datetime.now(UTC), settings=settings)
        return DryRunOut(**vars(await campaign_service.dry_run(conn, c, settings=settings)))


@router.get(BASE)
async def listed(principal: StaffPrincipal, pool: Pool,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[CampaignOut]:
    async with pool.acquire() as conn:
        found = await campaign_repo.listed(conn, allowed=principal.district_filter(),
                                           limit=limit)
    return [CampaignOut.of(c) for c in found]


@router.get(BASE + "/{campaign_id}")
async def read(campaign_id: uuid.UUID, principal: StaffPrincipal, pool: Pool) -> CampaignOut:
    async with pool.acquire() as conn:
        c = await campaign_repo.get(conn, campaign_id, allowed=principal.district_filter())
        return CampaignOut.of(c, await campaign_repo.runs(conn, campaign_id))


@router.post(BASE + "/{campaign_id}:cancel")
async def cancel(campaign_id: uuid.UUID, principal: StaffPrincipal, pool: Pool) -> CampaignOut:
    async with pool.acquire() as conn, conn.transaction():
        return CampaignOut.of(await campaign_service.cancel(conn, campaign_id,
                                                            principal=principal))


@router.get(BASE + "/{campaign_id}/reach")
async def reach(campaign_id: uuid.UUID, principal: StaffPrincipal, pool: Pool) -> ReachOut:
    """Sent, delivered, failed (by code), acknowledged and opened per district and team."""
    async with pool.acquire() as conn:
        await campaign_repo.get(conn, campaign_id, allowed=principal.district_filter())
        return ReachOut(campaign_id=campaign_id, rows=await campaign_reach.rows(conn, campaign_id))


