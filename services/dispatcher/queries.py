"""The supervisor read side: incident lists, tallies, call-outs, stats. District-scoped.

Everything comes back as domain rows, `Tally`s, records and `Stats`; views.py alone shapes
them into the API's schemas (and masks what a viewer may not see).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher import repo
from baiying_dispatcher.coverage import Coverage, coverage
from baiying_dispatcher.domain import COMMITTED, OUTSTANDING, CalloutState, Need, Profile
from baiying_dispatcher.repo import Incident

_OUT_COLS = "incident_id, state, delivery_status, team_type, skills"


@dataclass(frozen=True)
class Tally:
    """What an incident's call-outs add up to: counts by state and by delivery status, and
    the profiles of those committed and of those still outstanding."""

    counts: dict[str, int]
    deliveries: dict[str, int]
    accepted: list[Profile]
    outstanding: list[Profile]
    called: int


async def tally(conn: asyncpg.Connection[Any], incident: Incident) -> Tally:
    """One incident's call-outs, added up."""
    rows = await conn.fetch(
        f"SELECT {_OUT_COLS} FROM callouts WHERE incident_id = $1", incident.id,
    )
    return _tally(rows)


async def tallies(
    conn: asyncpg.Connection[Any], incidents: list[Incident]
) -> dict[uuid.UUID, Tally]:
    """Many incidents' tallies from one query (a list page is two queries, not 2N+1)."""
    rows = await conn.fetch(
        f"SELECT {_OUT_COLS} FROM callouts WHERE incident_id = ANY($1::uuid[])",
        [i.id for i in incidents],
    )
    by_incident: dict[uuid.UUID, list[asyncpg.Record]] = {i.id: [] for i in incidents}
    for r in rows:
        by_incident[r["incident_id"]].append(r)
    return {k: _tally(v) for k, v in by_incident.items()}


def _tally(rows: list[asyncpg.Record]) -> Tally:
    counts: dict[str, int] = {}
    deliveries: dict[str, int] = {}
    accepted, outstanding = [], []
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
        if r["delivery_status"]:
            deliveries[r["delivery_status"]] = deliveries.get(r["delivery_status"], 0) + 1
        state = CalloutState(r["state"])
        if state in COMMITTED:
            accepted.append(Profile(r["team_type"], frozenset(r["skills"])))
        elif state in OUTSTANDING:
            outstanding.append(Profile(r["team_type"], frozenset(r["skills"])))
    return Tally(counts, deliveries, accepted, outstanding, called=len(rows))


async def coverage_of(
    conn: asyncpg.Connection[Any], incident_ids: list[str]
) -> dict[str, Coverage]:
    """Coverage of each call-out incident named (stream notices, stats), by incident id."""
    rows = await conn.fetch(
        "SELECT i.id, i.need, c.state, c.team_type, c.skills FROM incidents i"
        " LEFT JOIN callouts c ON c.incident_id = i.id AND c.state = ANY($2::text[])"
        " WHERE i.id = ANY($1::uuid[]) AND i.kind = 'callout'",
        incident_ids, [s.value for s in COMMITTED | OUTSTANDING],
    )
    needs: dict[str, Need] = {}
    people: dict[str, tuple[list[Profile], list[Profile]]] = {}
    for r in rows:
        key, n = str(r["id"]), r["need"]
        needs[key] = Need(total=n["total"], teams=n["teams"], skills=n["skills"])
        acc, out = people.setdefault(key, ([], []))
        if r["state"] is not None:
            p = Profile(r["team_type"], frozenset(r["skills"]))
            (acc if CalloutState(r["state"]) in COMMITTED else out).append(p)
    return {k: coverage(needs[k], *people[k]) for k in needs}


async def list_incidents(
    conn: asyncpg.Connection[Any], *, districts: list[str] | None, status: str | None,
    limit: int,
) -> list[Incident]:
    """Newest first, only in `districts` (None = all)."""
    return await repo.incidents_where(conn, districts=districts, status=status, limit=limit)


async def callout_rows(conn: asyncpg.Connection[Any], incident: Incident) -> list[asyncpg.Record]:
    """Every call-out of the incident by rank, as stored (views.py masks what it shows)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, volunteer_id, name, phone, team_type, skills, distance_m, rank, round, state,"
        " delivery_status, lat, lon, created_at, delivered_at, answered_at, accepted_at,"
        " arrived_at, stood_down_at FROM callouts"
        " WHERE incident_id = $1 ORDER BY rank", incident.id,
    )
    return rows


_STATS = """
SELECT {key} AS key, count(*) AS called,
       count(*) FILTER (WHERE c.accepted_at IS NOT NULL) AS accepted,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.accepted_at - c.created_at))
           FILTER (WHERE c.accepted_at IS NOT NULL) AS median_accept_s
FROM callouts c JOIN incidents i ON i.id = c.incident_id
WHERE i.kind = 'callout' AND ($1::text[] IS NULL OR i.district = ANY($1::text[]))
  AND ($2::timestamptz IS NULL OR c.created_at >= $2)
GROUP BY {group} ORDER BY 1
"""


@dataclass(frozen=True)
class Stats:
    """Acceptance rows (key, called, accepted, median_accept_s) overall, by team type and by
    district, and the coverage totals of the call-outs counted."""

    overall: asyncpg.Record
    by_team_type: list[asyncpg.Record]
    by_district: list[asyncpg.Record]
    coverage: dict[str, int]


async def stats(
    conn: asyncpg.Connection[Any], *, districts: list[str] | None, since: datetime | None
) -> Stats:
    """Acceptance and median time to accept, by team type and by district."""
    by_team = await conn.fetch(_STATS.format(key="c.team_type", group="c.team_type"),
                               districts, since)
    by_district = await conn.fetch(_STATS.format(key="i.district", group="i.district"),
                                   districts, since)
    overall = await conn.fetch(_STATS.format(key="'all'", group="()"), districts, since)
    return Stats(overall[0], list(by_team), list(by_district),
                 await _coverage_totals(conn, districts=districts, since=since))


async def _coverage_totals(
    conn: asyncpg.Connection[Any], *, districts: list[str] | None, since: datetime | None
) -> dict[str, int]:
    """Call-out incidents, how many were fully covered, and slots filled of slots required."""
    ids = [str(r["id"]) for r in await conn.fetch(
        "SELECT id FROM incidents WHERE kind = 'callout'"
        " AND ($1::text[] IS NULL OR district = ANY($1::text[]))"
        " AND ($2::timestamptz IS NULL OR created_at >= $2)", districts, since)]
    covers = list((await coverage_of(conn, ids)).values()) if ids else []
    return {
        "incidents": len(covers),
        "complete": sum(1 for c in covers if c.complete),
        "filled": sum(c.filled for c in covers),
        "required": sum(c.required for c in covers),
    }
