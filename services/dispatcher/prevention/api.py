"""Case library HTTP API: a closed incident becomes a case; search by category, district, text."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from baiying_dispatcher.prevention import cases
from baiying_shared.auth import StaffPrincipal
from baiying_shared.deps import Pool
from baiying_shared.events.common import DistrictCode

router = APIRouter(prefix="/v1/cases", tags=["prevention"])

class CaseOut(BaseModel):
    id: uuid.UUID
    incident_id: uuid.UUID | None
    district: str
    category: str
    title_zh: str
    account_zh: str
    advice_zh: str
    title_en: str | None
    account_en: str | None
    advice_en: str | None
    removed: dict[str, int]  # what personal data was taken out, by kind
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, case: cases.Case) -> CaseOut:
        return cls(id=case.id, incident_id=case.incident_id, district=case.district,
                   category=case.category, removed=case.removed, created_by=case.created_by,
                   created_at=case.created_at, **case.texts)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: cases.CaseDraft, principal: StaffPrincipal, pool: Pool) -> CaseOut:
    """Turn a closed incident of the caller's districts into a case, personal data removed."""
    districts = principal.district_filter()
    async with pool.acquire() as conn:
        case = await cases.create_case(
            conn, draft=body, may_act_in=None if districts is None else set(districts),
            created_by=principal.sub)
    return CaseOut.of(case)


@router.get("")
async def search(
    principal: StaffPrincipal,
    pool: Pool,
    category: Annotated[str | None, Query(max_length=40)] = None,
    district: DistrictCode | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CaseOut]:
    """The case library, newest first, within the caller's districts."""
    allowed = principal.district_filter()
    if district is not None:
        allowed = [district] if allowed is None or district in allowed else []
    async with pool.acquire() as conn:
        found = await cases.search_cases(conn, districts=allowed, category=category, text=q,
                                         limit=limit)
    return [CaseOut.of(c) for c in found]


@router.get("/{case_id}")
async def read(case_id: uuid.UUID, principal: StaffPrincipal, pool: Pool) -> CaseOut:
    async with pool.acquire() as conn:
        return CaseOut.of(await cases.get_case(conn, case_id,
                                               districts=principal.district_filter()))
