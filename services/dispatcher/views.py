"""The API's views: incidents, their call-outs and the stats, shaped as response bodies.

queries.py reads (rows, tallies, records) and knows nothing of the HTTP schemas; this module is
the one place they become response bodies, and where phones and points are masked by viewer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher import queries, repo
from baiying_dispatcher.coverage import coverage
from baiying_dispatcher.domain import COMMITTED, CalloutState, acceptance_rate, rounded_point
from baiying_dispatcher.queries import Tally
from baiying_dispatcher.repo import Incident
from baiying_dispatcher.schemas import CalloutOut, IncidentOut, StatRow, StatsOut
from baiying_shared.auth import Principal
from baiying_shared.events.common import GeoPoint
from baiying_shared.privacy import mask_phone


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


async def incident_view(conn: asyncpg.Connection[Any], incident: Incident) -> IncidentOut:
    """An incident with its call-out counts, progress and timings."""
    return incident_out(incident, await queries.tally(conn, incident))


async def incidents_view(
    conn: asyncpg.Connection[Any], incidents: list[Incident]
) -> list[IncidentOut]:
    """Many incidents' views from one call-out query."""
    found = await queries.tallies(conn, incidents)
    return [incident_out(i, found[i.id]) for i in incidents]


def incident_out(incident: Incident, t: Tally) -> IncidentOut:
    """The response body for `incident` whose call-outs add up to `t` (no I/O)."""
    callout = incident.kind == "callout"
    cover = coverage(incident.need, t.accepted, t.outstanding) if callout else None
    return IncidentOut(
        id=incident.id, kind=incident.kind, title=incident.title,
        description=incident.description, category=incident.category,
        district=incident.district, area=incident.area, address=incident.address,
        location=GeoPoint(lat=incident.lat, lon=incident.lon), status=incident.status.value,
        round=incident.round, rounds=incident.policy.rounds, radius_m=incident.radius_m,
        need=repo.need_json(incident.need), escalation=repo.policy_json(incident.policy),
        advice=incident.advice, created_by=incident.created_by, created_at=incident.created_at,
        next_round_at=incident.next_round_at, first_accept_at=incident.first_accept_at,
        staffed_at=incident.staffed_at, first_callout_at=incident.first_callout_at,
        unmet_at=incident.unmet_at, ended_at=incident.ended_at,
        time_to_first_accept_s=_seconds(incident.created_at, incident.first_accept_at),
        time_to_staffed_s=_seconds(incident.created_at, incident.staffed_at),
        counts=t.counts, deliveries=t.deliveries, accepted=len(t.accepted), called=t.called,
        missing=cover.missing if cover else {},
        coverage=cover.as_dict() if cover else None,
        draw_districts=list(incident.draw_districts),
    )


def is_desk_of(principal: Principal, incident: Incident) -> bool:
    """The incident's own duty desk: it phones the people on the way, and meets them."""
    return principal.role == "duty_desk" and principal.may_act_in(incident.district)


async def callouts_view(
    conn: asyncpg.Connection[Any], incident: Incident, principal: Principal
) -> list[CalloutOut]:
    """Every call-out of the incident by rank. Phones masked and homes rounded to ~100 m,
    except to the incident's desk for those who accepted (to phone them on the way)."""
    desk = is_desk_of(principal, incident)
    return [_callout_out(r, whole=desk and CalloutState(r["state"]) in COMMITTED)
            for r in await queries.callout_rows(conn, incident)]


def _callout_out(r: asyncpg.Record, *, whole: bool) -> CalloutOut:
    shown = {} if whole else {"phone": mask_phone(r["phone"]), **rounded_point(r["lat"], r["lon"])}
    return CalloutOut(**{**dict(r), **shown, "skills": list(r["skills"])})


def _stat(r: asyncpg.Record) -> StatRow:
    median = r["median_accept_s"]
    return StatRow(key=str(r["key"]), called=r["called"], accepted=r["accepted"],
                   acceptance_rate=acceptance_rate(r["called"], r["accepted"]),
                   median_accept_s=None if median is None else round(float(median), 3))


async def stats_view(
    conn: asyncpg.Connection[Any], *, districts: list[str] | None, since: datetime | None
) -> StatsOut:
    """Acceptance rate and median time to accept, by team type and by district."""
    s = await queries.stats(conn, districts=districts, since=since)
    return StatsOut(overall=_stat(s.overall), by_team_type=[_stat(r) for r in s.by_team_type],
                    by_district=[_stat(r) for r in s.by_district], coverage=s.coverage)
