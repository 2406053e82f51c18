"""The responder index: the registry's volunteers as a PostGIS table, and nearest-N selection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

# Candidate and Clock live in their own modules; re-exported for existing callers.
from baiying_dispatcher.candidates import Candidate as Candidate
from baiying_dispatcher.clock import Clock as Clock
from baiying_dispatcher.domain import COMMITTED, LIVE, Component, reachable_channels
from baiying_shared.events.common import TeamType
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

# The walk: the `take` nearest callable people after the first `skip` (a ring), in distance
# order from a GiST that holds only the people wanted (_walk). It holds nothing the planner
# must guess at (callable and team type are the index's predicate, a facet its first column)
# and its LIMIT is a literal and a small share of the index, so the KNN index scan is its
# cheapest plan (tests/dispatcher/test_select_plans.py); no planner switch is needed. The
# filters the planner cannot estimate (quiet hours, cap, commitments) run on the ring only.
# `walked` and `far`: did the ring reach the end of the index or the radius.
_NEAREST = f"""
WITH ring AS MATERIALIZED (
    SELECT r.volunteer_id, r.name, r.phone, r.team_type, r.skills, r.district, r.reachable,
        r.language, r.location, r.available_until, r.quiet_start, r.quiet_end,
        r.alerts_day, r.alerts_today, r.daily_alert_cap, r.location <-> $1::geography AS gap
    {{walk}}
    LIMIT {{take}} OFFSET {{skip}}),
edge AS (SELECT count(*) AS walked, max(gap) AS far FROM ring)
SELECT f.*, edge.walked, edge.far FROM edge LEFT JOIN LATERAL (
    SELECT {_COLUMNS}, ST_Distance(r.location, $1::geography, false) AS distance
    FROM ring r
    WHERE ST_DWithin(r.location, $1::geography, $2, false)
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
    LIMIT $8) f ON true
"""
# Each has its partial GiST (migration 0009); only these exact words are ever spliced as SQL.
_INDEXED_TYPES = frozenset(t.value for t in TeamType)
# Ring sizes are powers of two (few distinct statements to prepare): a quarter more than the
# wanted count first, then grown by the share of walked people the filters kept so far.
_FIRST_RING, _LAST_RING = 128, 65_536


@dataclass(frozen=True)
class _Ring:
    skip: int
    take: int


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

    Walks outward in rings of the KNN index (nearest callable first, of `want`'s team type
    when it has one) and filters each ring, until `limit` fit or a ring passes the radius;
    the cost depends on how many people are skipped, not on how many exist.
    `districts` (district codes), when given, keeps only volunteers living in them.
    """
    shape = _Shape(lat=lat, lon=lon, radius_m=radius_m, clock=clock, want=want,
                   incident_id=incident_id, exclude=exclude, districts=districts)
    found: list[Candidate] = []
    ring = _Ring(0, _first_take(limit))
    async with _transaction(conn):
        while True:
            rows = await conn.fetch(*shape.sql(ring, limit - len(found)))
            kept = [_candidate(r) for r in rows if r["volunteer_id"] is not None]
            found += kept
            walked, far = rows[0]["walked"], rows[0]["far"]
            if len(found) >= limit or walked < ring.take or far is None or far > radius_m:
                break
            missing = limit - len(found)
            ring = _Ring(ring.skip + ring.take, _next_take(ring.take, len(kept), missing))
    # KNN orders by spherical distance; rank by the exact spheroid distance.
    return sorted(found, key=lambda c: c.distance_m)


async def explain_nearest(
    conn: asyncpg.Connection[Any], *, lat: float, lon: float, radius_m: int, clock: Clock,
    limit: int, want: Component = ANYONE, districts: Sequence[str] | None = None,
    analyze: bool = False, json: bool = False,
) -> Any:
    """The plan of `nearest`'s first ring for these filters (EXPLAIN text, or the JSON plan)."""
    shape = _Shape(lat=lat, lon=lon, radius_m=radius_m, clock=clock, want=want,
                   incident_id=None, exclude=(), districts=districts)
    sql, *args = shape.sql(_Ring(0, _first_take(limit)), limit)
    options = ", ".join(o for o, on in (("ANALYZE", analyze), ("FORMAT JSON", json)) if on)
    explain = f"EXPLAIN ({options}) " if options else "EXPLAIN "
    async with _transaction(conn):
        rows = await conn.fetch(explain + sql, *args)
    if json:
        return rows[0][0]
    return "\n".join(r[0] for r in rows)


@dataclass(frozen=True)
class _Shape:
    """One selection's filters, as SQL text (fixed per shape) and parameters."""

    lat: float
    lon: float
    radius_m: int
    clock: Clock
    want: Component
    incident_id: uuid.UUID | None
    exclude: Sequence[uuid.UUID]
    districts: Sequence[str] | None

    def sql(self, ring: _Ring, limit: int) -> tuple[Any, ...]:
        # The point travels as one geography literal, so it is not rebuilt per row walked.
        c = self.clock
        args = [point(lat=self.lat, lon=self.lon), float(self.radius_m), c.now, c.local, c.day,
                list(self.exclude), self.incident_id, limit, _COMMITTED, _LIVE]
        # Filters are spliced as fixed text (values stay parameters): each shape, its plan.
        extra = ""
        if self.want.team_type is not None:
            args.append(self.want.team_type)
            extra += f" AND r.team_type = ${len(args)}"
        if self.want.skill is not None:
            args.append(self.want.skill)
            extra += f" AND ${len(args)} = ANY(r.skills)"
        if self.districts is not None:
            args.append(list(self.districts))
            extra += f" AND r.district = ANY(${len(args)}::text[])"
        sql = _NEAREST.format(walk=self._walk(args), extra=extra, take=int(ring.take),
                              skip=int(ring.skip))
        return (sql, *args)

    def _walk(self, args: list[Any]) -> str:
        # The narrowest index that holds everyone wanted; the ring's filters still check every
        # condition, so the choice changes speed only.
        if (facet := self._facet()) is not None:
            args.append(facet)
            return (f"FROM responder_facets f JOIN responders r USING (volunteer_id)"
                    f" WHERE f.facet = ${len(args)} ORDER BY f.location <-> $1::geography")
        if self.want.team_type in _INDEXED_TYPES:  # a literal: it must match a partial index
            return (f"FROM responders r WHERE r.callable AND r.team_type = '{self.want.team_type}'"
                    " ORDER BY r.location <-> $1::geography")
        return "FROM responders r WHERE r.callable ORDER BY r.location <-> $1::geography"

    def _facet(self) -> str | None:
        # The keys of responder_facet_keys (migration 0009): a skill is usually the rarest.
        team, skill = self.want.team_type, self.want.skill
        if skill is not None:
            return f"type:{team}/skill:{skill}" if team is not None else f"skill:{skill}"
        if self.districts and len(self.districts) == 1:
            district = f"district:{self.districts[0]}"
            return f"{district}/type:{team}" if team is not None else district
        return None


def _first_take(limit: int) -> int:
    # The walk's index holds the wanted people (_walk), so most of a first ring fits; small
    # rings also keep a ring a small share of the index, where the walk is the cheapest plan.
    return _power_of_two(limit * 1.25)


def _next_take(take: int, kept: int, missing: int) -> int:
    # At the kept rate so far, walk far enough for the missing ones (and half again).
    wanted = missing * 1.5 * take / kept if kept else take * 8
    return min(_power_of_two(wanted), take * 8)


def _power_of_two(n: float) -> int:
    size = _FIRST_RING
    while size < n and size < _LAST_RING:
        size *= 2
    return size


@asynccontextmanager
async def _transaction(conn: asyncpg.Connection[Any]) -> AsyncIterator[None]:
    # Every ring of one selection reads the same snapshot. JIT is off because it never pays
    # for a query of milliseconds, yet a wide ring's cost estimate can cross jit_above_cost
    # and compiling once took 360-410 ms (docs/performance.md); it changes no plan's shape.
    if conn.is_in_transaction():
        await conn.execute("SET LOCAL jit = off")
        try:
            yield
        finally:
            await conn.execute("RESET jit")
        return
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL jit = off")
        yield


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
    radius_m: int, limit: int, clock: Clock, within: Sequence[str],
) -> list[Candidate]:
    """Every active, reachable volunteer in `districts` (or the radius), nearest first.

    A prevention notice is not urgent: it ignores duty and the daily cap, but never wakes
    someone inside their quiet hours. By radius it still keeps to the districts the incident
    may draw on (`within`): a circle near a border must not reach the neighbour's people.
    """
    if districts:
        sql = _ADVISORY.format(where="r.district = ANY($3::text[])")
        rows = await conn.fetch(sql, lon, lat, list(districts), limit, clock.local)
    else:
        sql = _ADVISORY.format(
            where="ST_DWithin(r.location, here.g, $3) AND r.district = ANY($6::text[])")
        rows = await conn.fetch(sql, lon, lat, float(radius_m), limit, clock.local, list(within))
    return [_candidate(r) for r in rows]
