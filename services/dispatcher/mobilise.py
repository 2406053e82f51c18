"""Mobilisation: call the nearest suitable people, judge quorum, widen rounds, stand down.

Every function runs inside the caller's transaction with the incident row locked, so
replies, round ticks and cancels for one incident never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher import outbound, repo
from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import (
    COMMITTED,
    LIVE,
    OUTSTANDING,
    IncidentStatus,
    wants,
)
from baiying_dispatcher.index import advisory_audience, count_alerts, nearest
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_dispatcher.repo import Callout, Incident
from baiying_shared.logging import get_logger

log = get_logger(__name__)


async def replenish(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    clock: Clock,
) -> list[Callout]:
    """Top up the call: for what is still missing, call the next nearest not yet called."""
    existing = await repo.callouts_of(conn, incident_id=incident.id)
    accepted = [c.profile for c in existing if c.state in COMMITTED]
    in_flight = [c.profile for c in existing if c.state in OUTSTANDING]
    picks: list[Candidate] = []
    exhausted: set[str] = set()
    while todo := wants(incident.need, accepted, in_flight,
                        over_call=settings.dispatch_over_call_factor,
                        exhausted=frozenset(exhausted)):
        want = todo[0]
        found = await nearest(
            conn, lat=incident.lat, lon=incident.lon, radius_m=incident.radius_m, clock=clock,
            limit=want.count, want=want.component, incident_id=incident.id,
            exclude=[p.volunteer_id for p in picks],
        )
        if len(found) < want.count:
            exhausted.add(want.component.key)  # nobody else fits within this radius
        picks += found
        in_flight += [c.profile for c in found]
    return await _call(conn, incident=incident, picks=picks, clock=clock)


async def _call(
    conn: asyncpg.Connection[Any], *, incident: Incident, picks: list[Candidate], clock: Clock
) -> list[Callout]:
    if not picks:
        return []
    picks.sort(key=lambda c: c.distance_m)
    first_rank = await repo.max_rank(conn, incident.id) + 1
    made = await repo.insert_callouts(
        conn, incident_id=incident.id, picks=picks, round_no=incident.round, first_rank=first_rank
    )
    await count_alerts(conn, volunteer_ids=[c.volunteer_id for c in made], day=clock.day)
    await outbound.issue(conn, incident=incident, callouts=made, expires_at=incident.next_round_at)
    await outbound.notify(conn, [outbound.callout_notice(incident, c, c.state) for c in made])
    log.info("called", incident_id=str(incident.id), round=incident.round, n=len(made))
    return made


async def fan_out_advisory(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    clock: Clock,
) -> int:
    """Send a prevention notice to every active, reachable volunteer in the area."""
    audience = await advisory_audience(
        conn, lat=incident.lat, lon=incident.lon, districts=incident.target_districts,
        radius_m=incident.radius_m, limit=settings.dispatch_advisory_max,
        clock=clock,
    )
    made = await repo.insert_callouts(
        conn, incident_id=incident.id, picks=audience, round_no=1, first_rank=1
    )
    await outbound.issue(conn, incident=incident, callouts=made, expires_at=None)
    return len(made)


async def evaluate(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    clock: Clock,
) -> Incident:
    """After any change: staffed if the need is covered, else call replacements."""
    if incident.status not in LIVE:
        return incident
    async with PgUnitOfWork(conn, settings=settings, clock=clock) as uow:
        agg = await handlers.evaluate(uow, incident_id=incident.id,
                                      over_call=settings.dispatch_over_call_factor)
    return agg.row if agg else incident


async def advance_round(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident_id: Any,
    expected_round: int, clock: Clock,
) -> Incident | None:
    """The wait is over: silence becomes no_answer, then widen and call again, or give up.

    Guarded by `expected_round` so a stale or duplicate tick changes nothing.
    """
    async with PgUnitOfWork(conn, settings=settings, clock=clock) as uow:
        agg = await handlers.advance_round(
            uow, incident_id=incident_id, expected_round=expected_round,
            max_radius_m=settings.dispatch_max_radius_m,
            over_call=settings.dispatch_over_call_factor,
        )
    if agg is None:
        return None
    incident = agg.row
    log.info("round over", incident_id=str(incident.id), round=incident.round,
             status=incident.status.value, radius_m=incident.radius_m)
    return incident


async def due_rounds(conn: asyncpg.Connection[Any], *, now: datetime) -> list[tuple[Any, int]]:
    """Incidents whose round wait has run out: (id, round)."""
    rows = await conn.fetch(
        "SELECT id, round FROM incidents WHERE status = 'mobilising' AND next_round_at <= $1"
        " ORDER BY next_round_at LIMIT 100", now,
    )
    return [(r["id"], r["round"]) for r in rows]


async def end(
    conn: asyncpg.Connection[Any], *, incident: Incident, status: IncidentStatus, clock: Clock,
) -> Incident:
    """Cancel or close: everyone still called or on the way is stood down."""
    async with PgUnitOfWork(conn, settings=None, clock=clock) as uow:
        agg = await handlers.end(uow, incident_id=incident.id, status=status)
    return agg.row if agg else incident


def clock_for(settings: DispatcherSettings, now: datetime) -> Clock:
    return Clock.at(now, settings.dispatch_timezone)
