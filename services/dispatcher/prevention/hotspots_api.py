"""Hotspot HTTP API: where and when incidents cluster, for aiming prevention campaigns."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from pydantic.dataclasses import dataclass as pydantic_dataclass

from baiying_dispatcher.prevention import hotspots
from baiying_shared.auth import StaffPrincipal
from baiying_shared.deps import Pool
from baiying_shared.events.common import DistrictCode

router = APIRouter(prefix="/v1/hotspots", tags=["prevention"])


@pydantic_dataclass(frozen=True)
class CellOut(hotspots.Square):
    """A hot square as the page shows it: the grid square, then what happened in it."""

    lat: float  # centre
    lon: float
    count: int
    categories: dict[str, int]
    peak_hour: int  # hour of the week, Monday 00:00 local = 0
    peak_label: str
    suggested_send: datetime  # two hours before the next peak: pre-fills a campaign


class HotspotsOut(BaseModel):
    since: datetime
    until: datetime
    cell_m: int
    total: int
    week: list[int]  # 168 counts, Monday 00:00 local first
    cells: list[CellOut]


@router.get("")
async def read(
    principal: StaffPrincipal,
    pool: Pool,
    days: Annotated[int, Query(ge=1, le=730, description="window ending now")] = 90,
    cell_m: Annotated[int, Query(ge=100, le=10_000)] = 500,
    top: Annotated[int, Query(ge=1, le=200)] = 10,
    district: DistrictCode | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> HotspotsOut:
    """Call-outs of the window binned by cell and hour of week, busiest cells first."""
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    allowed = principal.district_filter()
    if district is not None:
        allowed = [district] if allowed is None or district in allowed else []
    rows = await pool.fetch(
        "SELECT lat, lon, created_at, category FROM incidents WHERE kind = 'callout'"
        " AND created_at >= $1 AND created_at < $2"
        " AND ($3::text[] IS NULL OR district = ANY($3)) AND ($4::text IS NULL OR category = $4)",
        since, until, allowed, category)
    points = [hotspots.Point(r["lat"], r["lon"], r["created_at"], r["category"]) for r in rows]
    found = hotspots.cells(points, cell_m=cell_m)[:top]
    return HotspotsOut(
        since=since, until=until, cell_m=cell_m, total=len(points),
        week=hotspots.week_matrix(points),
        cells=[_cell(c, now=until, lang=lang) for c in found],
    )


def _cell(cell: hotspots.Cell, *, now: datetime, lang: str) -> CellOut:
    lat, lon = cell.centre
    square = {f.name: getattr(cell, f.name) for f in fields(hotspots.Square)}
    return CellOut(
        **square, lat=lat, lon=lon, count=cell.count, categories=cell.categories,
        peak_hour=cell.peak_hour, peak_label=hotspots.hour_label(cell.peak_hour, lang),
        suggested_send=hotspots.suggested_send(cell, now=now),
    )
