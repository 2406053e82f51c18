"""Phones by need: a desk, supervisor or admin reads one whole number, with a reason, audited.

Lists and records show desks and supervisors a masked number; this is the one explicit way to
the whole number outside the admins' records, and each use is a row in `phone_reveals`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baiying_registry import repo
from baiying_registry.deps import Db
from baiying_shared.auth import StaffPrincipal

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])
# Blank-padded words are not a reason: stripped before the length is checked.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500)]


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="why the whole number is needed, for the audit log")


class RevealOut(BaseModel):
    volunteer_id: uuid.UUID
    phone: str
    revealed_by: str
    at: datetime


class RevealRecord(BaseModel):
    actor: str
    role: str
    reason: str
    at: datetime


@router.post("/{volunteer_id}/phone:reveal", response_model=RevealOut)
async def reveal_phone(
    volunteer_id: uuid.UUID, body: RevealIn, principal: StaffPrincipal, db: Db,
) -> RevealOut:
    """The whole number, for a desk or supervisor of the volunteer's district (or an admin)."""
    row = await repo.get_volunteer(db, volunteer_id)
    principal.ensure_district(row["district"])
    # The audit row is written before the number leaves: no reveal without its record.
    at = await db.fetchval(
        "INSERT INTO phone_reveals (volunteer_id, district, actor, role, reason)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING at",
        volunteer_id, row["district"], principal.sub, principal.role, body.reason,
    )
    return RevealOut(volunteer_id=volunteer_id, phone=row["phone"], revealed_by=principal.sub,
                     at=at)


@router.get("/{volunteer_id}/phone:reveals", response_model=list[RevealRecord])
async def reveals(
    volunteer_id: uuid.UUID, principal: StaffPrincipal, db: Db,
) -> list[RevealRecord]:
    """Who revealed this volunteer's number, newest first (staff of the district, admins)."""
    row = await repo.get_volunteer(db, volunteer_id)
    principal.ensure_district(row["district"])
    rows = await db.fetch(
        "SELECT actor, role, reason, at FROM phone_reveals WHERE volunteer_id = $1"
        " ORDER BY id DESC LIMIT 200", volunteer_id)
    return [RevealRecord(**dict(r)) for r in rows]
