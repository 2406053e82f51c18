"""Selection equals a brute-force reference for every filter mix (not timed).

3,000 people around one point (rolled back afterwards): four districts that are mostly areas
(quadrants) and partly scattered, three team types, a fifth first-aiders, and every reason not
to be called — off duty, suspended, opted out, quiet hours, no longer available, capped today,
committed to a live incident, already called by this one, excluded. `nearest` (rings of KNN
walks, one walk per district merged by distance) must return what reading every row and
applying the domain's rules in Python returns: the same people, nearest first.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher.domain import COMMITTED, LIVE, Component, in_quiet_hours
from baiying_dispatcher.index import apply_snapshots, count_alerts, nearest, point
from baiying_shared.events.common import GeoPoint, QuietHours
from baiying_shared.events.volunteers import VolunteerSnapshot
from tests.dispatcher.support import fresh_area, offset, volunteer
from tests.dispatcher.test_selection import CLOCK, NOW, _call, _incident, pool  # noqa: F401

DISTRICTS = ["360702", "360703", "360704", "360705"]
WANTS = [Component(), Component(team_type="patrol"), Component(skill="first_aid"),
         Component(team_type="information_officer", skill="first_aid")]
PLACES = [None, ["360702"], ["360703", "360705"], ["360702", "360703", "360704"],
          ["360704", "360704"], ["360799"], DISTRICTS, []]


def _person(rnd: random.Random, area: GeoPoint, n: int) -> VolunteerSnapshot:
    east, north = rnd.uniform(-6000, 6000), rnd.uniform(-6000, 6000)
    quadrant = DISTRICTS[(east > 0) + 2 * (north > 0)]
    odd = rnd.random()
    return volunteer(
        area, 0, home=offset(area, east_m=east, north_m=north),
        district=quadrant if rnd.random() < 0.7 else rnd.choice(DISTRICTS),
        team_type=rnd.choice(["patrol", "patrol", "community_security", "information_officer"]),
        skills=("first_aid",) if rnd.random() < 0.2 else (),
        on_duty=odd >= 0.05, status="suspended" if 0.05 <= odd < 0.08 else "active",
        sms_opt_out=0.08 <= odd < 0.11,
        available_until=(NOW - timedelta(minutes=5) if 0.11 <= odd < 0.14
                         else NOW + timedelta(hours=2) if 0.14 <= odd < 0.2 else None),
        quiet_hours=(QuietHours(start=time(22), end=time(7)) if 0.2 <= odd < 0.26
                     else QuietHours(start=time(13), end=time(14)) if 0.26 <= odd < 0.3
                     else None),
        daily_alert_cap=1 if n % 9 == 0 else 10,
    )


@pytest.fixture
async def crowd(pool: asyncpg.Pool[Any]  # noqa: F811
                ) -> AsyncIterator[tuple[asyncpg.Connection[Any], GeoPoint, dict[str, Any]]]:
    area, rnd = fresh_area(), random.Random(13)
    people = [_person(rnd, area, n) for n in range(3000)]
    async with pool.acquire() as conn:
        tx = conn.transaction()  # rolled back: the index other tests share stays clean
        await tx.start()
        try:
            await apply_snapshots(conn, people)
            await count_alerts(conn, volunteer_ids=[p.volunteer_id for p in people[::9]],
                               day=CLOCK.day)  # capped today (cap 1)
            await conn.execute("ANALYZE responders")
            await conn.execute("ANALYZE responder_facets")
            yield conn, area, await _calls(conn, area, people)
        finally:
            await tx.rollback()


async def _calls(conn: Any, area: GeoPoint, people: list[VolunteerSnapshot]) -> dict[str, Any]:
    live, closed, this = [await _incident(conn, area, s)
                          for s in ("staffed", "closed", "mobilising")]
    for i, p in enumerate(people[1:600:7]):
        state = ("accepted", "arrived", "declined")[i % 3]
        await _call(conn, (live, closed, this)[i % 3], p, state)
    return {"incident": this.id, "exclude": [p.volunteer_id for p in people[3:900:11]]}


async def _reference(conn: Any, area: GeoPoint, *, radius_m: int, limit: int, want: Component,
                     districts: list[str] | None, incident: uuid.UUID,
                     exclude: list[uuid.UUID]) -> list[tuple[uuid.UUID, float]]:
    """Every row read, the domain's rules applied in Python, sorted by distance."""
    rows = await conn.fetch(
        "SELECT r.*, ST_Distance(r.location, $1::geography, false) AS distance,"
        " EXISTS (SELECT 1 FROM callouts c WHERE c.incident_id = $2"
        "         AND c.volunteer_id = r.volunteer_id) AS called,"
        " EXISTS (SELECT 1 FROM callouts c JOIN incidents i ON i.id = c.incident_id"
        "         WHERE c.volunteer_id = r.volunteer_id AND c.state = ANY($3::text[])"
        "           AND i.status = ANY($4::text[])) AS committed"
        " FROM responders r", point(lat=area.lat, lon=area.lon), incident,
        [s.value for s in COMMITTED], [s.value for s in LIVE])
    fit = [(r["volunteer_id"], r["distance"]) for r in rows
           if r["callable"] and r["distance"] <= radius_m
           and (r["available_until"] is None or r["available_until"] > CLOCK.now)
           and not in_quiet_hours(r["quiet_start"], r["quiet_end"], CLOCK.local)
           and (r["alerts_day"] != CLOCK.day or r["alerts_today"] < r["daily_alert_cap"])
           and not r["called"] and not r["committed"] and r["volunteer_id"] not in exclude
           and (want.team_type is None or r["team_type"] == want.team_type)
           and (want.skill is None or want.skill in r["skills"])
           and (districts is None or r["district"] in districts)]
    return sorted(fit, key=lambda f: f[1])[:limit]


@pytest.mark.parametrize("radius_m", [1500, 9000])
async def test_selection_equals_the_brute_force_reference(
    crowd: tuple[asyncpg.Connection[Any], GeoPoint, dict[str, Any]], radius_m: int
) -> None:
    conn, area, calls = crowd
    wrong, merged = [], 0
    for want in WANTS:
        for districts in PLACES:
            for limit in (1, 7, 60, 250, 5000):
                ask = {"radius_m": radius_m, "limit": limit, "want": want,
                       "districts": districts, **calls}
                expected = await _reference(conn, area, **ask)
                found = await nearest(conn, lat=area.lat, lon=area.lon, clock=CLOCK,
                                      incident_id=ask.pop("incident"), **ask)
                got = [c.volunteer_id for c in found]
                if set(got) != {v for v, _ in expected} or len(got) != len(expected):
                    wrong.append((want, districts, limit, len(got), len(expected)))
                distances = [c.distance_m for c in found]
                assert distances == sorted(distances), (want, districts, limit)
                merged += len({c.district for c in found}) > 1 and bool(districts)
    assert not wrong, wrong
    assert merged > 20, "the walks per district were merged in many mixes"
