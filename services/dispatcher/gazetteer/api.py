"""Gazetteer HTTP API: CSV import with per-line errors, scoped search, and the reference list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel

from baiying_dispatcher.gazetteer import repo
from baiying_dispatcher.gazetteer.rows import LineError, parse
from baiying_shared.auth import DutyDeskPrincipal, StaffPrincipal
from baiying_shared.deps import Pool
from baiying_shared.errors import InvalidField
from baiying_shared.events.common import DistrictCode
from baiying_shared.logging import get_logger
from baiying_shared.reference import district_name, raw

log = get_logger(__name__)
router = APIRouter(prefix="/v1", tags=["gazetteer"])
MAX_IMPORT_BYTES = 20 * 1024 * 1024


SearchText = Annotated[str, Query(min_length=1, max_length=80, description="what the desk typed")]


class LineErrorOut(BaseModel):
    line: int
    field: str
    message: str


class ImportOut(BaseModel):
    imported: int
    errors: list[LineErrorOut]


class AddressOut(BaseModel):
    """A picked address fills the raise form: location, district and area (片区)."""

    id: int
    address: str
    district: str
    district_name: str
    community: str
    police_room: str
    area: str  # the 片区 for the raise form's `area` (the community)
    label: str  # what the desk sees in the list: district, address, community
    lat: float
    lon: float
    score: float


@router.get("/reference")
async def reference() -> dict[str, object]:
    """Categories (code, zh, en) and districts (code, zh, en, seat): one list for every screen."""
    return raw()


@router.post("/gazetteer/import")
async def import_csv(request: Request, principal: DutyDeskPrincipal, pool: Pool) -> ImportOut:
    """Import a CSV (address,district,community,police_room,lat,lon); bad lines are listed."""
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "file over 20 MB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"file: not UTF-8 (byte {exc.start})") from exc
    good, bad = parse(text)
    if not good and bad and bad[0].line == 1:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "; ".join(e.message for e in bad))
    mine = [a for _, a in good if principal.may_act_in(a.district)]
    bad += [LineError(i, "district", f"district {a.district} is not one of yours")
            for i, a in good if not principal.may_act_in(a.district)]
    bad.sort(key=lambda e: e.line)
    async with pool.acquire() as conn, conn.transaction():
        n = await repo.upsert(conn, mine)
    log.info("gazetteer imported", by=principal.sub, imported=n, rejected=len(bad))
    return ImportOut(imported=n, errors=[LineErrorOut(**e.__dict__) for e in bad])


@router.get("/gazetteer/search")
async def search(
    q: SearchText, principal: StaffPrincipal, pool: Pool,
    district: DistrictCode | None = None, limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[AddressOut]:
    """Search-as-you-type over the standard addresses of the caller's districts, best first."""
    scope = principal.districts_in_scope(district)
    if not q.split():
        raise InvalidField("q", "type part of an address", where="query")
    async with pool.acquire() as conn:
        rows = await repo.search(conn, query=q, districts=scope, limit=limit)
    return [
        AddressOut(
            id=r["id"], address=r["address"], district=r["district"],
            district_name=district_name(r["district"]), community=r["community"],
            police_room=r["police_room"], area=r["community"],
            label=f"{district_name(r['district'])} {r['address']}"
            + (f"（{r['community']}）" if r["community"] else ""),
            lat=r["lat"], lon=r["lon"], score=round(r["score"], 4),
        )
        for r in rows
    ]
