"""Mobilisation entry points for the round timer and next steps: each runs one handler of
the aggregate (baiying_dispatcher.mobilisation) inside the caller's transaction, with the
incident row locked, so replies, round ticks and cancels for one incident never interleave.
The first call at raise goes through the same aggregate (incidents.insert_and_call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import IncidentStatus
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_dispatcher.repo import Incident
from baiying_shared.logging import get_logger

log = get_logger(__name__)


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
