"""Routes for teams: admins create, staff list and read within their districts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from baiying_registry import repo, service
from baiying_registry.deps import Db, cursor_id, team_out
from baiying_registry.domain import encode_cursor
from baiying_registry.schemas import TeamIn, TeamOut, TeamPage
from baiying_shared.auth import AdminPrincipal, StaffPrincipal
from baiying_shared.errors import NotFound
from baiying_shared.events.common import TeamType

router = APIRouter(prefix="/v1/teams", tags=["teams"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
async def create_team(body: TeamIn, principal: AdminPrincipal, db: Db) -> TeamOut:
    """Create a team (admins); its snapshot goes to registry.teams.v1."""
    data = service.NewTeam(name=body.name, type=body.type.value, district=body.district,
                           community=body.community,
                           leader_volunteer_id=body.leader_volunteer_id)
    return team_out(await service.create_team(db, data=data))


@router.get("", response_model=TeamPage)
async def list_teams(
    principal: StaffPrincipal,
    db: Db,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    type: TeamType | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> TeamPage:
    """Teams in id order, filtered by district and type, limited to the caller's districts."""
    rows = await repo.list_teams(
        db, districts=principal.districts_in_scope(district),
        type_=type.value if type else None, after=cursor_id(cursor), limit=limit,
    )
    more = len(rows) > limit
    items = [team_out(r) for r in rows[:limit]]
    return TeamPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


@router.get("/{team_id}", response_model=TeamOut)
async def get_team(team_id: uuid.UUID, principal: StaffPrincipal, db: Db) -> TeamOut:
    """One team."""
    row = await repo.get_team(db, team_id)
    if row is None:
        raise NotFound(f"no team {team_id}")
    principal.ensure_district(row["district"])
    return team_out(row)
