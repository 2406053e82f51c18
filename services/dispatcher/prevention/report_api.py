"""Monthly report HTTP API: JSON for the consoles, CSV for the bureau's spreadsheets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from baiying_dispatcher.prevention import report
from baiying_shared.auth import StaffPrincipal
from baiying_shared.deps import Pool
from baiying_shared.reference import district_name

router = APIRouter(prefix="/v1/reports", tags=["prevention"])
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="local month, YYYY-MM")]


class CampaignsOut(BaseModel):
    """Campaign runs started in the month and their messages' reach (volunteers and residents)."""

    model_config = ConfigDict(from_attributes=True)
    campaigns: int
    issued: int  # messages the runs issued to volunteers
    sent: int
    delivered: int
    failed: int
    acknowledged: int  # 收到 replies
    opened: int  # case pages opened from the link


class DistrictMonthOut(BaseModel):
    district: str  # 360700 is the total over the caller's districts
    name: str
    callouts: int
    advisories: int
    staffed: int
    median_to_staffed_s: float | None
    called: dict[str, int]
    mobilised: dict[str, int]  # 人次 by team type
    arrived: dict[str, int]
    campaigns: CampaignsOut


@router.get("/monthly", response_model=None)
async def monthly(
    principal: StaffPrincipal, pool: Pool, month: Month,
    format: Literal["json", "csv"] = "json",
) -> list[DistrictMonthOut] | Response:
    """Call-outs, people mobilised by the five teams, time to staffed and campaigns' reach,
    per district."""
    async with pool.acquire() as conn:
        rows = await report.monthly(conn, month=month, districts=principal.district_filter())
    whole_city = principal.district_filter() is None
    names = {r.district: _name(r.district, whole_city) for r in rows}
    if format == "csv":
        return Response(report.to_csv(rows, names=names), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="baiying-{month}.csv"'})
    return [DistrictMonthOut.model_validate({**r.__dict__, "name": names[r.district]},
                                            from_attributes=True) for r in rows]


def _name(code: str, whole_city: bool) -> str:
    if code == report.CITY:
        return "赣州市" if whole_city else "合计"
    return district_name(code)
