"""Roster for supervisors: per district and team type, who is there and who can be reached."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from baiying_registry.deps import Db, sees_whole_phone
from baiying_registry.reachability import State
from baiying_shared.auth import StaffPrincipal
from baiying_shared.errors import InvalidField
from baiying_shared.events.common import TeamType
from baiying_shared.privacy import mask_phone

router = APIRouter(prefix="/v1/roster", tags=["roster"])
DistrictQ = Annotated[str | None, Query(pattern=r"^\d{6}$")]
_ON_DUTY = ("v.status = 'active' AND v.on_duty"
            " AND (v.available_until IS NULL OR v.available_until > now())")
_SMS = "coalesce(rs.state, 'ok')"
_APP = "coalesce(ra.state, 'ok')"
_FROM = """FROM teams t LEFT JOIN volunteers v ON v.team_id = t.id
LEFT JOIN reachability rs ON rs.volunteer_id = v.id AND rs.channel = 'sms'
LEFT JOIN reachability ra ON ra.volunteer_id = v.id AND ra.channel = 'app'
WHERE ($1::text[] IS NULL OR t.district = ANY($1))"""
_SUMMARY = f"""
SELECT t.district, t.type AS team_type, count(DISTINCT t.id) AS teams, count(v.id) AS people,
  count(v.id) FILTER (WHERE {_ON_DUTY}) AS on_duty_now,
  count(v.id) FILTER (WHERE v.status = 'active' AND 'sms' = ANY(v.channels) AND {_SMS} = 'ok')
    AS reachable_sms,
  count(v.id) FILTER (WHERE v.status = 'active' AND 'app' = ANY(v.channels) AND {_APP} = 'ok')
    AS reachable_app,
  count(v.id) FILTER (WHERE {_SMS} = 'opted_out') AS opted_out,
  count(v.id) FILTER (WHERE {_SMS} = 'carrier_blocked') AS carrier_blocked,
  count(v.id) FILTER (WHERE {_SMS} = 'invalid') AS invalid,
  count(v.id) FILTER (WHERE {_SMS} = 'unreachable') AS unreachable
{_FROM} GROUP BY t.district, t.type ORDER BY t.district, t.type"""
_PEOPLE = f"""
SELECT v.id, v.name, v.phone, t.id AS team_id, t.name AS team_name, v.status, v.channels,
  ({_ON_DUTY}) AS on_duty_now, {_SMS} AS sms, {_APP} AS app
{_FROM} AND v.id IS NOT NULL AND t.type = $2 AND ($3::text IS NULL OR {_SMS} = $3)
ORDER BY t.name, v.name, v.id LIMIT 500"""


class RosterRow(BaseModel):
    district: str
    team_type: TeamType
    teams: int
    people: int
    on_duty_now: int
    reachable_sms: int
    reachable_app: int
    opted_out: int
    carrier_blocked: int
    invalid: int
    unreachable: int


class RosterPerson(BaseModel):
    id: str
    name: str
    phone: str
    team_id: str
    team_name: str
    status: str
    channels: list[str]
    on_duty_now: bool
    sms: State
    app: State


@router.get("", response_model=list[RosterRow])
async def roster(
    principal: StaffPrincipal, db: Db,
    district: DistrictQ = None,
) -> list[RosterRow]:
    """Per district and team type: teams, people, on duty now, reachable, and why not."""
    rows = await db.fetch(_SUMMARY, principal.districts_in_scope(district))
    return [RosterRow(**dict(r)) for r in rows]


@router.get("/people", response_model=list[RosterPerson])
async def roster_people(
    principal: StaffPrincipal, db: Db, team_type: TeamType,
    district: DistrictQ = None,
    sms: Annotated[State | None, Query(description="only this SMS state")] = None,
) -> list[RosterPerson]:
    """The drill-down: the people behind one roster row (at most 500), phones as the role allows."""
    if district is None and principal.district_filter() is None:
        raise InvalidField("district", "required for a drill-down across all districts",
                           where="query")
    rows = await db.fetch(_PEOPLE, principal.districts_in_scope(district), team_type.value, sms)
    whole = sees_whole_phone(principal)
    return [_person(r, whole) for r in rows]


def _person(r: Any, whole: bool) -> RosterPerson:
    return RosterPerson(
        id=str(r["id"]), name=r["name"], phone=r["phone"] if whole else mask_phone(r["phone"]),
        team_id=str(r["team_id"]), team_name=r["team_name"], status=r["status"],
        channels=list(r["channels"]), on_duty_now=r["on_duty_now"], sms=r["sms"], app=r["app"],
    )



