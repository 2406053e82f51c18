"""Routes for volunteers: admins write; staff read within their districts."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from baiying_registry import repo, service
from baiying_registry.deps import Db, Settings, cursor_id, sees_whole_phone, volunteer_out
from baiying_registry.domain import MAX_RADIUS_M, encode_cursor, parse_near
from baiying_registry.schemas import (
    AvailabilityIn,
    VolunteerIn,
    VolunteerOut,
    VolunteerPage,
    VolunteerPatch,
)
from baiying_shared.auth import AdminPrincipal, CurrentPrincipal, StaffPrincipal
from baiying_shared.errors import Forbidden, InvalidField
from baiying_shared.events.common import QuietHours, TeamType

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "a volunteer with this phone already exists"}
}


def _quiet(q: QuietHours | None) -> tuple[time, time] | None:
    return (q.start, q.end) if q else None


def _new(body: VolunteerIn) -> service.NewVolunteer:
    """The body as the command the service takes (plain values)."""
    plain = body.model_dump(exclude={"home", "quiet_hours", "channels", "skills"})
    return service.NewVolunteer(**plain, home=body.home, quiet=_quiet(body.quiet_hours),
                                channels=tuple(c.value for c in body.channels),
                                skills=tuple(body.skills))


def _changes(body: VolunteerPatch) -> service.VolunteerChanges:
    """Only the fields the patch sets, as plain values."""
    given: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    if given.get("channels") is not None:
        given["channels"] = tuple(c.value for c in given["channels"])
    if "quiet_hours" in given:
        given["quiet_hours"] = _quiet(given["quiet_hours"])
    return service.VolunteerChanges(given)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VolunteerOut,
             responses=_CONFLICT)
async def create_volunteer(
    body: VolunteerIn, principal: AdminPrincipal, db: Db, settings: Settings
) -> VolunteerOut:
    """Register a volunteer (admins). 409 for a phone already registered."""
    return volunteer_out(await service.create_volunteer(db, data=_new(body), area=settings.area))


@router.get("", response_model=VolunteerPage)
async def list_volunteers(
    principal: StaffPrincipal,
    db: Db,
    team_type: TeamType | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    team_id: uuid.UUID | None = None,
    near: Annotated[str | None, Query(description="LAT,LON", examples=["25.8175,114.935"])] = None,
    radius_m: Annotated[float | None, Query(gt=0, le=MAX_RADIUS_M)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> VolunteerPage:
    """Volunteers in id order (keyset pages), by team type, district, team or distance."""
    districts = principal.districts_in_scope(district)
    point = _near(near, radius_m)
    query = repo.VolunteerQuery(
        districts=districts, team_type=team_type.value if team_type else None, team_id=team_id,
        near=point, radius_m=radius_m, after=cursor_id(cursor), limit=limit,
    )
    rows = await repo.list_volunteers(db, query)
    whole = sees_whole_phone(principal)
    items = [volunteer_out(r, whole_phone=whole) for r in rows[:limit]]
    more = len(rows) > limit
    return VolunteerPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def _near(near: str | None, radius_m: float | None) -> tuple[float, float] | None:
    if near is None:
        if radius_m is not None:
            raise InvalidField("near", "radius_m needs near=LAT,LON", where="query")
        return None
    try:
        point = parse_near(near)
    except ValueError as exc:
        raise InvalidField("near", str(exc), where="query") from exc
    if radius_m is None:
        raise InvalidField("radius_m", "required with near", where="query")
    return point


@router.get("/{volunteer_id}", response_model=VolunteerOut)
async def get_volunteer(volunteer_id: uuid.UUID, principal: StaffPrincipal, db: Db) -> VolunteerOut:
    """One volunteer's full record."""
    row = await repo.get_volunteer(db, volunteer_id)
    principal.ensure_district(row["district"])
    return volunteer_out(row, whole_phone=sees_whole_phone(principal, volunteer_id))


@router.patch("/{volunteer_id}", response_model=VolunteerOut, responses=_CONFLICT)
async def patch_volunteer(
    volunteer_id: uuid.UUID, body: VolunteerPatch, principal: AdminPrincipal, db: Db,
    settings: Settings,
) -> VolunteerOut:
    """Change some fields (admins); the revision goes up by one."""
    row = await service.patch_volunteer(
        db, volunteer_id=volunteer_id, changes=_changes(body), area=settings.area
    )
    return volunteer_out(row)


@router.delete("/{volunteer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_volunteer(volunteer_id: uuid.UUID, principal: AdminPrincipal, db: Db) -> Response:
    """Remove a volunteer (admins); a tombstone goes to registry.volunteers.v1."""
    await service.delete_volunteer(db, volunteer_id=volunteer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{volunteer_id}/availability", response_model=VolunteerOut)
async def put_availability(
    volunteer_id: uuid.UUID, body: AvailabilityIn, principal: CurrentPrincipal, db: Db
) -> VolunteerOut:
    """Go on or off duty (admins, or the volunteer themself)."""
    if principal.role != "admin" and principal.volunteer_id != volunteer_id:
        raise Forbidden("only admins or the volunteer themself")
    row = await service.set_availability(
        db, volunteer_id=volunteer_id, on_duty=body.on_duty, until=body.until
    )
    return volunteer_out(row)
