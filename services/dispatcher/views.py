"""The API's view of an incident: a domain row and its call-outs' tally, shaped as IncidentOut.

queries.py reads (rows, tallies) and knows nothing of the HTTP schemas; this module is the one
place an incident becomes a response body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher import queries, repo
from baiying_dispatcher.coverage import coverage
from baiying_dispatcher.queries import Tally
from baiying_dispatcher.repo import Incident
from baiying_dispatcher.schemas import IncidentOut
from baiying_shared.events.common import GeoPoint


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
