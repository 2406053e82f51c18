"""The responder index: the registry's volunteers as a PostGIS table, and nearest-N selection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

# Candidate and Clock live in their own modules; re-exported for existing callers.
from baiying_dispatcher.candidates import Candidate as Candidate
from baiying_dispatcher.clock import Clock as Clock
from baiying_dispatcher.domain import COMMITTED, LIVE, Component, reachable_channels
from baiying_shared.events.volunteers import VolunteerSnapshot

_UPSERT = """
INSERT INTO responders (volunteer_id, revision, name, phone, team_id, team_type, district,
    location, skills, channels, reachable, language, active, on_duty, available_until,
    quiet_start, quiet_end, daily_alert_cap, callable, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, ST_SetSRID(ST_MakePoint($8, $9), 4326)::geography,
    $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
ON CONFLICT (volunteer_id) DO UPDATE SET
    revision = EXCLUDED.revision, name = EXCLUDED.name, phone = EXCLUDED.phone,
    team_id = EXCLUDED.team_id, team_type = EXCLUDED.team_type, district = EXCLUDED.district,
    location = EXCLUDED.location, skills = EXCLUDED.skills, channels = EXCLUDED.channels,
    reachable = EXCLUDED.reachable, language = EXCLUDED.language, active = EXCLUDED.active,
    on_duty = EXCLUDED.on_duty, available_until = EXCLUDED.available_until,
    quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end,
    daily_alert_cap = EXCLUDED.daily_alert_cap, callable = EXCLUDED.callable,
    updated_at = EXCLUDED.updated_at
WHERE responders.revision < EXCLUDED.revision
"""


def snapshot_row(s: VolunteerSnapshot) -> tuple[Any, ...]:
    """The upsert parameters for one snapshot."""
    reachable = reachable_channels(
        [c.value for c in s.channels], sms_opt_out=s.sms_opt_out, phone_flag=s.phone_flag
    )
    active = s.status == "active"
    quiet = s.quiet_hours
    return (
        s.volunteer_id, s.revision, s.name, s.phone, s.team_id, s.team_type.value, s.district,
        s.home.lon, s.home.lat, list(s.skills), [c.value for c in s.channels], list(reachable),
        s.language, active, s.on_duty, s.available_until,
        quiet.start if quiet else None, quiet.end if quiet else None,
        s.daily_alert_cap, active and s.on_duty and bool(reachable), s.updated_at,
    )


async def apply_snapshots(
    conn: asyncpg.Connection[Any], snapshots: Sequence[VolunteerSnapshot]
) -> None:
    """Upsert snapshots; an older or equal revision than the stored one changes nothing."""
    await conn.executemany(_UPSERT, [snapshot_row(s) for s in snapshots])


async def remove(conn: asyncpg.Connection[Any], *, volunteer_id: uuid.UUID) -> None:
    """A registry tombstone: the volunteer no longer exists."""
    await conn.execute("DELETE FROM responders WHERE volunteer_id = $1", volunteer_id)


ANYONE = Component()


def point(*, lat: float, lon: float) -> str:
    """EWKT of a WGS 84 point, for a `$n::geography` parameter."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"


_COLUMNS = """r.volunteer_id, r.name, r.phone, r.team_type, r.skills, r.district, r.reachable,
    r.language, ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon"""

# The SQL twin of domain.in_quiet_hours (a window that may cross midnight), judged at the
# local time parameter `{t}`; tests/dispatcher/test_selection.py runs both over one table.
_QUIET_SQL = """(r.quiet_start IS NULL OR r.quiet_start = r.quiet_end OR NOT CASE
    WHEN r.quiet_start < r.quiet_end THEN {t} >= r.quiet_start AND {t} < r.quiet_end
    ELSE {t} >= r.quiet_start OR {t} < r.quiet_end END)"""
_NOT_QUIET = _QUIET_SQL.format(t="$4")

# Committed states and live incident statuses come from the domain, as parameters.
_COMMITTED = sorted(s.value for s in COMMITTED)
_LIVE = sorted(s.value for s in LIVE)

_NEAREST = f"""
SELECT {_COLUMNS}, ST_Distance(r.location, $1::geography, false) AS distance
FROM responders r
WHERE r.callable
  AND ST_DWithin(r.location, $1::geography, $2, false)
  AND (r.available_until IS NULL OR r.available_until > $3)
  AND {_NOT_QUIET}
  AND (r.alerts_day IS DISTINCT FROM $5 OR r.alerts_today < r.daily_alert_cap)
  AND r.volunteer_id <> ALL($6::uuid[])
  AND NOT EXISTS (SELECT 1 FROM callouts c WHERE c.incident_id = $7
                  AND c.volunteer_id = r.volunteer_id)
  AND NOT EXISTS (SELECT 1 FROM callouts c JOIN incidents i ON i.id = c.incident_id
                  WHERE c.volunteer_id = r.volunteer_id AND c.state = ANY($9::text[])
                    AND i.status = ANY($10::text[]))
  {{extra}}
ORDER BY r.location <-> $1::geography
LIMIT $8
"""


async def nearest(
    conn: asyncpg.Connection[Any],
    *,
    lat: float,
    lon: float,
    radius_m: int,
    clock: Clock,
    limit: int,
    want: Component = ANYONE,
    incident_id: uuid.UUID | None = None,
    exclude: Sequence[uuid.UUID] = (),
    districts: Sequence[str] | None = None,
) -> list[Candidate]:
    """The `limit` nearest callable volunteers within `radius_m` who fit `want`, nearest first.

    The KNN walk over the partial GiST index returns rows in distance order and stops at
    `limit`, so the cost depends on how many it skips, not on how many volunteers exist.
    `districts` (district codes), when given, keeps only volunteers living in them.
    """
    sql, args = _selection(lat=lat, lon=lon, radius_m=radius_m, clock=clock, limit=limit,
                           want=want, incident_id=incident_id, exclude=exclude,
                           districts=districts)
    rows = await _in_transaction(conn, sql, args)
    found = [_candidate(r) for r in rows]
    # KNN orders by spherical distance; rank by the exact spheroid distance.
    return sorted(found, key=lambda c: c.distance_m)


async def explain_nearest(
    conn: asyncpg.Connection[Any], *, lat: float, lon: float, radius_m: int, clock: Clock,
    limit: int, want: Component = ANYONE, districts: Sequence[str] | None = None,
) -> str:
    """The plan `nearest` runs for these filters (EXPLAIN text), for tests and benchmarks."""
    sql, args = _selection(lat=lat, lon=lon, radius_m=radius_m, clock=clock, limit=limit,
                           want=want, incident_id=None, exclude=(), districts=districts)
    rows = await _in_transaction(conn, "EXPLAIN " + sql, args)
    return "\n".join(r[0] for r in rows)


def _selection(
    *, lat: float, lon: float, radius_m: int, clock: Clock, limit: int, want: Component,
    incident_id: uuid.UUID | None, exclude: Sequence[uuid.UUID],
    districts: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    # The point travels as one geography literal, so it is not rebuilt for every row walked.
    extra, args = "", [point(lat=lat, lon=lon), float(radius_m), clock.now, clock.local,
                       clock.day, list(exclude), incident_id, limit, _COMMITTED, _LIVE]
    # Filters are spliced as fixed text (values stay parameters) so each shape gets its own plan.
    if want.team_type is not None:
        args.append(want.team_type)
        extra += f" AND r.team_type = ${len(args)}"
    if want.skill is not None:
        args.append(want.skill)
        extra += f" AND ${len(args)} = ANY(r.skills)"
    if districts is not None:
        args.append(list(districts))
        extra += f" AND r.district = ANY(${len(args)}::text[])"
    return _NEAREST.format(extra=extra), args


async def _in_transaction(
    conn: asyncpg.Connection[Any], sql: str, args: list[Any]
) -> list[Any]:
    if conn.is_in_transaction():
        return await _knn_walk(conn, sql, args)
    async with conn.transaction():
        return await _knn_walk(conn, sql, args)


async def _knn_walk(conn: asyncpg.Connection[Any], sql: str, args: list[Any]) -> list[Any]:
    # Left alone, the planner often reads every row inside the radius (bitmap scan) and sorts
    # them; the GiST KNN walk, bounded by the same box, stops after `limit` matches instead.
    # JIT is off because it was the whole selection tail: the walk's cost estimate (the planner
    # fears a long walk for few matches) crosses jit_above_cost at some points, and compiling
    # took 360-410 ms for a query that executes in 1 ms (docs/performance.md).
    await conn.execute(
        "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off")
    rows = await conn.fetch(sql, *args)
    await conn.execute("RESET enable_bitmapscan; RESET enable_sort; RESET jit")
    return list(rows)


def _candidate(r: asyncpg.Record) -> Candidate:
    return Candidate(
        volunteer_id=r["volunteer_id"], name=r["name"], phone=r["phone"],
        team_type=r["team_type"], skills=tuple(r["skills"]), district=r["district"],
        channels=tuple(r["reachable"]), language=r["language"], lat=r["lat"], lon=r["lon"],
        distance_m=round(r["distance"]),
    )


async def count_alerts(
    conn: asyncpg.Connection[Any], *, volunteer_ids: Sequence[uuid.UUID], day: date
) -> None:
    """Count today's alerts toward each volunteer's daily cap."""
    await conn.execute(
        "UPDATE responders SET alerts_today = CASE WHEN alerts_day = $2 THEN alerts_today + 1"
        " ELSE 1 END, alerts_day = $2 WHERE volunteer_id = ANY($1::uuid[])",
        list(volunteer_ids), day,
    )


_ADVISORY = f"""
WITH here AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS g)
SELECT {_COLUMNS}, ST_Distance(r.location, here.g) AS distance
FROM responders r, here
WHERE r.active AND cardinality(r.reachable) > 0 AND {{where}}
  AND {_QUIET_SQL.format(t="$5")}
ORDER BY distance
LIMIT $4
"""


async def advisory_audience(
    conn: asyncpg.Connection[Any], *, lat: float, lon: float, districts: Sequence[str] | None,
    radius_m: int, limit: int, clock: Clock,
) -> list[Candidate]:
    """Every active, reachable volunteer in `districts` (or the radius), nearest first.

    A prevention notice is not urgent: it ignores duty and the daily cap, but never wakes
    someone inside their quiet hours.
    """
    if districts:
        sql = _ADVISORY.format(where="r.district = ANY($3::text[])")
        rows = await conn.fetch(sql, lon, lat, list(districts), limit, clock.local)
    else:
        sql = _ADVISORY.format(where="ST_DWithin(r.location, here.g, $3)")
        rows = await conn.fetch(sql, lon, lat, float(radius_m), limit, clock.local)
    return [_candidate(r) for r in rows]
