"""Nearest-N selection: rings of KNN walks over the responder index (index.py keeps the table).

`nearest` walks outward from the incident in rings of a GiST that holds only the people wanted
and filters each ring; `explain_nearest` shows the first ring's plan (the plan test, the bench).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from baiying_dispatcher.candidates import COLUMNS as _COLUMNS
from baiying_dispatcher.candidates import QUIET_SQL as _QUIET_SQL
from baiying_dispatcher.candidates import Candidate, point
from baiying_dispatcher.candidates import candidate as _candidate
from baiying_dispatcher.clock import Clock
from baiying_dispatcher.domain import COMMITTED, LIVE, Component
from baiying_shared.events.common import TeamType

ANYONE = Component()

_NOT_QUIET = _QUIET_SQL.format(t="$4")

# Committed states and live incident statuses come from the domain, as parameters.
_COMMITTED = sorted(s.value for s in COMMITTED)
_LIVE = sorted(s.value for s in LIVE)

# The walk: the `take` nearest callable people after the first `skip` (a ring), in distance
# order from a GiST that holds only the people wanted (_Shape.ring): one walk of an index, or
# one per facet (district) of responder_facets_knn, each its own ring, in one statement. It
# holds nothing the planner must guess at (callable and team type are the index's predicate,
# a facet's hash its first column) and its LIMIT is a literal and a small share of the index, so the
# KNN index scan is its cheapest plan (tests/dispatcher/test_select_plans.py); no planner
# switch is needed. The filters the planner cannot estimate (quiet hours, cap, commitments)
# run on the ring only. Per walk, `walked` and `far`: did it reach the index's end, the radius.
_RING_COLUMNS = """r.volunteer_id, r.name, r.phone, r.team_type, r.skills, r.district,
    r.reachable, r.language, r.location, r.available_until, r.quiet_start, r.quiet_end,
    r.alerts_day, r.alerts_today, r.daily_alert_cap, r.location <-> $1::geography AS gap"""
_NEAREST = f"""
WITH ring AS MATERIALIZED ({{ring}}),
edge AS (SELECT walk, count(*) AS walked, max(gap) AS far FROM ring GROUP BY walk)
SELECT f.*, edge.walk, edge.walked, edge.far FROM edge LEFT JOIN LATERAL (
    SELECT {_COLUMNS}, ST_Distance(r.location, $1::geography, false) AS distance
    FROM ring r
    WHERE r.walk IS NOT DISTINCT FROM edge.walk
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
    LIMIT $8) f ON true
"""
# One branch per facet (a parameter: its own estimate), each its own LIMIT; UNION ALL. The
# GiST leads with the facet's hash (migration 0022). A second condition on the facet's text
# made the planner expect a handful of rows and sort whole facets (200-800 ms); a colliding
# facet's rows fail the ring's own filters, or are someone wanted (kept once, by id).
_FACET_RING = f"""(SELECT ${{n}}::text AS walk, {_RING_COLUMNS}
    FROM responder_facets f JOIN responders r USING (volunteer_id)
    WHERE f.key = hashtextextended(${{n}}::text, 0) ORDER BY f.location <-> $1::geography
    LIMIT {{take}} OFFSET {{skip}})"""
_INDEX_RING = f"""SELECT NULL::text AS walk, {_RING_COLUMNS} FROM responders r
    WHERE r.callable{{team}} ORDER BY r.location <-> $1::geography
    LIMIT {{take}} OFFSET {{skip}}"""
# Each has its partial GiST (migration 0009); only these exact words are ever spliced as SQL.
_INDEXED_TYPES = frozenset(t.value for t in TeamType)
# Ring sizes are powers of two (few distinct statements to prepare): a quarter more than the
# wanted count first (shared by the walks), then grown by the share of walked people kept.
_SMALLEST_RING, _LAST_RING = 16, 65_536


@dataclass(frozen=True)
class _Ring:
    skip: int
    take: int


@dataclass
class _Walk:
    """One KNN walk (an index, or one facet of it), its next ring and what it kept so far."""

    facet: str | None
    ring: _Ring
    # (distance, row): rows become Candidates only if among the `limit` nearest at the end
    kept: list[tuple[float, asyncpg.Record]] = field(default_factory=list)
    far: float = 0.0  # the farthest walked; every unseen person of this walk lies beyond it
    done: bool = False


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

    Walks outward in rings of a KNN index that holds only people of `want` (one walk per
    district when `districts` are given) and filters each ring, until `limit` fit nearer than
    any walk's unseen people or every walk passed the radius; the cost depends on how many
    people are skipped, not on how many exist.
    `districts` (district codes), when given, keeps only volunteers living in them.
    """
    shape = _Shape(lat=lat, lon=lon, radius_m=radius_m, clock=clock, want=want,
                   incident_id=incident_id, exclude=exclude, districts=districts)
    walks = _walks(shape, limit)
    async with _transaction(conn):
        while due := _due(walks, limit):
            for ring in dict.fromkeys(w.ring for w in due):  # the walks at one ring: one query
                await _step(conn, shape, [w for w in due if w.ring == ring], walks, limit)
    # KNN orders by spherical distance; rank by the exact spheroid distance.
    return sorted((_candidate(r) for r in _merged(walks, limit)), key=lambda c: c.distance_m)


def _merged(walks: list[_Walk], limit: int) -> list[asyncpg.Record]:
    # The `limit` nearest kept by all walks, each person once: walks whose keys collide
    # (migration 0022) would both hold that person.
    kept = {r["volunteer_id"]: (gap, r) for walk in walks for gap, r in walk.kept}
    return [r for _, r in sorted(kept.values(), key=lambda k: k[0])[:limit]]


def _walks(shape: _Shape, limit: int) -> list[_Walk]:
    # The walk's index holds the wanted people, so most of a first ring fits; the walks share
    # it. Small rings keep a ring a small share of the index, where the KNN walk is the
    # cheapest plan.
    facets = shape.facets()
    first = _Ring(0, _first_take(limit, len(facets)))
    return [_Walk(facet, first) for facet in facets]


def _first_take(limit: int, walks: int) -> int:
    # One walk: a quarter more than wanted, as a power of two. Several: each walk's share and a
    # quarter, plus three standard deviations of the share: the `limit` nearest fall among
    # the walks (districts) like draws, so a walk's count is binomial (limit, 1/walks). In
    # steps of 8 (few statements to prepare). A second ring costs about as much as the first
    # (a round trip, a plan, the walks again), so the spread is there to make it rare. At
    # 1,000,000 for 100, one standard deviation (3 x 48, 4 x 40) left a second ring in 5 and
    # 4 of 300 selections for three and four districts: the p99 (7.4 against 4.2 ms at p50).
    walks = max(1, walks)  # no districts at all: no walk, nobody found
    if walks == 1:
        return _power_of_two(limit * 1.25)
    share = limit / walks
    spread = 3 * math.sqrt(limit * (1 / walks) * (1 - 1 / walks))
    take = 8 * math.ceil((share * 1.25 + spread) / 8)
    return max(_SMALLEST_RING, min(_LAST_RING, take))


def _due(walks: list[_Walk], limit: int) -> list[_Walk]:
    # A walk must go on while its unseen people could still be among the `limit` nearest kept.
    gaps = sorted(gap for walk in walks for gap, _ in walk.kept)
    worst = gaps[limit - 1] if len(gaps) >= limit else float("inf")
    return [walk for walk in walks if not walk.done and walk.far < worst]


async def _step(conn: asyncpg.Connection[Any], shape: _Shape, due: list[_Walk],
                walks: list[_Walk], limit: int) -> None:
    # One ring of the `due` walks (all at that ring), in one statement.
    ring, room = due[0].ring, {w.facet: limit - len(w.kept) for w in due}
    rows = await conn.fetch(*shape.sql(ring, max(room.values()), [w.facet for w in due]))
    by_walk: dict[str | None, list[asyncpg.Record]] = {w.facet: [] for w in due}
    for r in rows:
        by_walk[r["walk"]].append(r)
    for walk in due:
        mine = by_walk[walk.facet]
        kept = [(float(r["distance"]), r) for r in mine
                if r["volunteer_id"] is not None][:room[walk.facet]]
        nearer = sum(gap <= walk.far for w in walks for gap, _ in w.kept)
        walk.kept += kept
        walked, far = (mine[0]["walked"], mine[0]["far"]) if mine else (0, None)
        walk.far = float("inf") if far is None else far
        walk.done = (len(walk.kept) >= limit or walked < ring.take or far is None
                     or far > shape.radius_m)
        missing = max(1, limit - nearer - len(kept))
        walk.ring = _Ring(ring.skip + ring.take, _next_take(ring.take, len(kept), missing))


async def explain_nearest(
    conn: asyncpg.Connection[Any], *, lat: float, lon: float, radius_m: int, clock: Clock,
    limit: int, want: Component = ANYONE, districts: Sequence[str] | None = None,
    analyze: bool = False, json: bool = False,
) -> Any:
    """The plan of `nearest`'s first ring for these filters (EXPLAIN text, or the JSON plan)."""
    shape = _Shape(lat=lat, lon=lon, radius_m=radius_m, clock=clock, want=want,
                   incident_id=None, exclude=(), districts=districts)
    walks = _walks(shape, limit)
    sql, *args = shape.sql(walks[0].ring, limit, [w.facet for w in walks])
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

    def sql(self, ring: _Ring, limit: int, facets: list[str | None]) -> tuple[Any, ...]:
        # The point travels as one geography literal, so it is not rebuilt per row walked.
        c = self.clock
        args = [point(lat=self.lat, lon=self.lon), float(self.radius_m), c.now, c.local, c.day,
                list(self.exclude), self.incident_id, limit, _COMMITTED, _LIVE]
        # Filters are spliced as fixed text (values stay parameters): each shape, its plan.
        # The ring checks every condition, whatever the walk holds: the walk changes speed only.
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
        return (_NEAREST.format(ring=self._ring(args, facets, ring), extra=extra), *args)

    def _ring(self, args: list[Any], facets: list[str | None], ring: _Ring) -> str:
        size = {"take": int(ring.take), "skip": int(ring.skip)}
        if facets != [None]:
            args += facets
            first = len(args) - len(facets) + 1
            return " UNION ALL ".join(_FACET_RING.format(n=n, **size)
                                      for n in range(first, len(args) + 1))
        team = self.want.team_type
        if team in _INDEXED_TYPES:  # a literal: it must match a partial index
            return _INDEX_RING.format(team=f" AND r.team_type = '{team}'", **size)
        return _INDEX_RING.format(team="", **size)

    def facets(self) -> list[str | None]:
        """The walks, as keys of responder_facet_keys (migrations 0009, 0018); None: an index.

        Districts: one facet per district (of the team type and skill wanted); otherwise a
        skill's facet, or none (the callable index, or the team type's partial one)."""
        team, skill = self.want.team_type, self.want.skill
        narrow = (f"/type:{team}" if team is not None else "") + (
            f"/skill:{skill}" if skill is not None else "")
        if self.districts is not None:
            return [f"district:{d}{narrow}" for d in dict.fromkeys(self.districts)]
        if skill is not None:
            return [narrow.removeprefix("/")]
        return [None]


def _next_take(take: int, kept: int, missing: int) -> int:
    # At the kept rate so far, walk far enough for the missing ones (and half again).
    wanted = missing * 1.5 * take / kept if kept else take * 8
    return min(_power_of_two(wanted), take * 8)


def _power_of_two(n: float) -> int:
    size = _SMALLEST_RING
    while size < n and size < _LAST_RING:
        size *= 2
    return size


@asynccontextmanager
async def _transaction(conn: asyncpg.Connection[Any]) -> AsyncIterator[None]:
    # Every ring of one selection reads the same snapshot. JIT must be off (a wide ring's
    # cost can cross jit_above_cost and compiling once took 360-410 ms): the pool's
    # connections have it off for the session (shared/db/pool.py SERVER_SETTINGS), so a
    # selection costs no SET round trips and leaves no session state for the pool to reset.
    if conn.is_in_transaction():
        yield
        return
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        yield

