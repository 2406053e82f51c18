"""Routes for a volunteer's reachability: staff read it; admins clear a block with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from baiying_registry import reach_store, repo
from baiying_registry.deps import Db
from baiying_registry.reachability import Reach, State, cleared
from baiying_shared.auth import AdminPrincipal, StaffPrincipal

router = APIRouter(prefix="/v1/volunteers", tags=["reachability"])
ChannelName = Literal["sms", "app"]


class ChannelReach(BaseModel):
    channel: ChannelName
    state: State
    set_by: str | None = Field(description="volunteer | carrier | admin:<who>")
    keyword: str | None
    error_code: int | None
    failures: int
    since: datetime | None


class ReachOut(BaseModel):
    volunteer_id: uuid.UUID
    channels: list[ChannelReach]


class ClearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=4, max_length=500, description="why, for the audit log")


def _out(volunteer_id: uuid.UUID, states: dict[str, Reach]) -> ReachOut:
    return ReachOut(volunteer_id=volunteer_id, channels=[
        ChannelReach(channel=c, state=r.state, set_by=r.set_by,
                     keyword=r.keyword, error_code=r.error_code, failures=r.failures,
                     since=r.since)
        for c, r in states.items()
    ])


@router.get("/{volunteer_id}/reachability", response_model=ReachOut)
async def get_reachability(volunteer_id: uuid.UUID, principal: StaffPrincipal, db: Db) -> ReachOut:
    """Each channel's state: ok, opted out, carrier-blocked, invalid or unreachable, and why."""
    row = await repo.get_volunteer(db, volunteer_id)
    principal.ensure_district(row["district"])
    return _out(volunteer_id, await reach_store.channels(db, volunteer_id))


@router.post("/{volunteer_id}/reachability/{channel}/clear", response_model=ReachOut)
async def clear_reachability(
    volunteer_id: uuid.UUID, channel: ChannelName, body: ClearIn, principal: AdminPrincipal,
    db: Db,
) -> ReachOut:
    """Set a channel back to ok (admins; audited with the reason)."""
    actor = f"admin:{principal.sub}"
    now = await db.fetchval("SELECT now()")
    await reach_store.move(db, volunteer_id=volunteer_id, channel=channel, actor=actor,
                           reason=body.reason, change=lambda _: cleared(actor=actor, at=now))
    return _out(volunteer_id, await reach_store.channels(db, volunteer_id))
