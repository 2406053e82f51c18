"""Selection on the real PostGIS index: every filter holds and the nearest come first."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher import repo
from baiying_dispatcher.domain import CalloutState, Component, in_quiet_hours
from baiying_dispatcher.index import (
    _QUIET_SQL,
    Candidate,
    Clock,
    apply_snapshots,
    count_alerts,
    explain_nearest,
    nearest,
    remove,
)
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.common import GeoPoint, QuietHours
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.settings import CommonSettings
from tests.dispatcher.support import fresh_area, volunteer

# 23:30 in Ganzhou (UTC+8): inside a 22:00–07:00 quiet window, outside 13:00–14:00.
NOW = datetime(2026, 3, 5, 15, 30, tzinfo=UTC)
CLOCK = Clock.at(NOW, "Asia/Shanghai")


@pytest.fixture
async def pool(common_settings: CommonSettings) -> AsyncIterator[asyncpg.Pool[Any]]:
    dsn = common_settings.database_url.get_secret_value()
    await migrate(dsn, schema="dispatcher", package="baiying_dispatcher")
    p = await create_pool(common_settings, schema="dispatcher")
    yield p
    await p.close()


async def _incident(conn: Any, area: GeoPoint, status: str) -> repo.Incident:
    values = {
        "kind": "callout", "title": "t", "category": "c", "address": "a", "area": "a",
        "district": "360702", "lat": area.lat, "lon": area.lon, "base_radius_m": 2000,
        "radius_m": 2000, "need": {"total": 1, "teams": {}, "skills": {}},
        "policy": {"rounds": 1, "widening": 1.0, "wait_s": 60}, "status": status,
        "created_by": "test",
    }
    made = await repo.insert_incident(conn, values=values, idempotency_key=None)
    assert made is not None
    return made


async def _call(conn: Any, incident: repo.Incident, v: VolunteerSnapshot, state: str) -> None:
    pick = Candidate(v.volunteer_id, v.name, v.phone, v.team_type.value, v.skills, v.district,
                     ("sms",), "zh", v.home.lat, v.home.lon, 1)
    [c] = await repo.insert_callouts(conn, incident_id=incident.id, picks=[pick], round_no=1,
                                     first_rank=1)
    await repo.set_state(conn, [c.id], CalloutState(state), at=NOW)


async def test_selection_respects_every_filter_and_orders_by_distance(
    pool: asyncpg.Pool[Any],
) -> None:
    area = fresh_area()
    v = lambda d, **kw: volunteer(area, d, **kw)  # noqa: E731
    night = QuietHours(start=time(22), end=time(7))
    lunch = QuietHours(start=time(13), end=time(14))
    keep = {
        "ok_near": v(100), "until_later": v(140, available_until=NOW + timedelta(hours=1)),
        "app_despite_sms_opt_out": v(160, channels=("sms", "app"), sms_opt_out=True),
        "capped_yesterday": v(185, daily_alert_cap=1), "quiet_at_lunch": v(200, quiet_hours=lunch),
        "committed_to_closed": v(215),
        "medic_info": v(230, team_type="information_officer", skills=("first_aid",)),
        "ok_far": v(1900),
    }
    drop = {
        "suspended": v(110, status="suspended"), "off_duty": v(120, on_duty=False),
        "until_past": v(130, available_until=NOW - timedelta(minutes=1)),
        "sms_opted_out": v(150, sms_opt_out=True), "sms_flagged": v(170, phone_flag="21211"),
        "capped_today": v(180, daily_alert_cap=1), "quiet_now": v(190, quiet_hours=night),
        "committed_elsewhere": v(210), "already_called": v(220), "outside": v(2500),
    }
    async with pool.acquire() as conn:
        tx = conn.transaction()  # rolled back: the index other tests share stays clean
        await tx.start()
        try:
            await _check(conn, area, keep, drop)
        finally:
            await tx.rollback()


async def _check(conn: Any, area: GeoPoint, keep: dict[str, VolunteerSnapshot],
                 drop: dict[str, VolunteerSnapshot]) -> None:
    await apply_snapshots(conn, [*keep.values(), *drop.values()])
    await count_alerts(conn, volunteer_ids=[drop["capped_today"].volunteer_id], day=CLOCK.day)
    await count_alerts(conn, volunteer_ids=[keep["capped_yesterday"].volunteer_id],
                       day=CLOCK.day - timedelta(days=1))
    live, closed, this = [await _incident(conn, area, s)
                          for s in ("staffed", "closed", "mobilising")]
    await _call(conn, live, drop["committed_elsewhere"], "accepted")
    await _call(conn, closed, keep["committed_to_closed"], "accepted")
    await _call(conn, this, drop["already_called"], "declined")

    async def pick(limit: int = 50, **kw: Any) -> list[uuid.UUID]:
        found = await nearest(conn, lat=area.lat, lon=area.lon, radius_m=2000, clock=CLOCK,
                              limit=limit, incident_id=this.id, **kw)
        return [c.volunteer_id for c in found]

    assert await pick() == [s.volunteer_id for s in keep.values()]
    assert await pick(limit=3) == [s.volunteer_id for s in list(keep.values())[:3]]
    assert await pick(exclude=[keep["ok_near"].volunteer_id]) == [
        s.volunteer_id for s in list(keep.values())[1:]]
    medic = [keep["medic_info"].volunteer_id]
    assert await pick(want=Component(team_type="information_officer")) == medic
    assert await pick(want=Component(skill="first_aid")) == medic
    assert await pick(want=Component(team_type="patrol", skill="first_aid")) == []
    found = await nearest(conn, lat=area.lat, lon=area.lon, radius_m=2000, clock=CLOCK,
                          limit=1, incident_id=this.id)
    assert 95 <= found[0].distance_m <= 105 and found[0].channels == ("sms",)
    app_only = await nearest(conn, lat=area.lat, lon=area.lon, radius_m=2000, clock=CLOCK,
                             limit=3, incident_id=this.id)
    assert app_only[2].channels == ("app",), "an opted-out SMS channel is never offered"


async def test_index_applies_only_newer_revisions_and_tombstones(pool: asyncpg.Pool[Any]) -> None:
    area = fresh_area()
    snap = volunteer(area, 100, revision=5)
    async with pool.acquire() as conn:
        await apply_snapshots(conn, [snap])
        await apply_snapshots(conn, [snap.model_copy(update={"revision": 4, "on_duty": False})])
        assert await conn.fetchval(
            "SELECT revision = 5 AND callable FROM responders WHERE volunteer_id = $1",
            snap.volunteer_id)
        await apply_snapshots(conn, [snap.model_copy(update={"revision": 6, "on_duty": False})])
        assert await conn.fetchval(
            "SELECT revision = 6 AND NOT callable FROM responders WHERE volunteer_id = $1",
            snap.volunteer_id)
        await remove(conn, volunteer_id=snap.volunteer_id)
        assert await conn.fetchval(
            "SELECT count(*) FROM responders WHERE volunteer_id = $1", snap.volunteer_id) == 0


async def test_district_filter_keeps_only_those_districts(pool: asyncpg.Pool[Any]) -> None:
    area = fresh_area()
    here, there, third = (volunteer(area, d, district=code) for d, code in
                          ((100, "360702"), (200, "360703"), (300, "360704")))
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await apply_snapshots(conn, [here, there, third])

            async def pick(districts: list[str] | None) -> list[uuid.UUID]:
                found = await nearest(conn, lat=area.lat, lon=area.lon, radius_m=2000,
                                      clock=CLOCK, limit=10, districts=districts)
                return [c.volunteer_id for c in found]

            assert await pick(None) == [here.volunteer_id, there.volunteer_id,
                                        third.volunteer_id]
            assert await pick(["360703"]) == [there.volunteer_id]
            assert await pick(["360704", "360702"]) == [here.volunteer_id, third.volunteer_id]
            assert await pick([]) == []
        finally:
            await tx.rollback()


_T = time
# (start, end, local): windows inside one day, across midnight, empty, absent; edges.
QUIET_CASES = [
    (_T(22), _T(7), _T(23, 30)), (_T(22), _T(7), _T(3)), (_T(22), _T(7), _T(7)),
    (_T(22), _T(7), _T(21, 59)), (_T(22), _T(7), _T(22)), (_T(22), _T(7), _T(12)),
    (_T(13), _T(14), _T(13)), (_T(13), _T(14), _T(13, 59)), (_T(13), _T(14), _T(14)),
    (_T(13), _T(14), _T(0)), (_T(0), _T(6), _T(0)), (_T(23), _T(0), _T(23, 30)),
    (_T(23), _T(0), _T(0)), (_T(8), _T(8), _T(8)), (None, None, _T(3)),
]


async def test_sql_quiet_hours_agree_with_the_domain_rule(pool: asyncpg.Pool[Any]) -> None:
    sql = ("SELECT NOT " + _QUIET_SQL.format(t="$3::time")
           + " FROM (SELECT $1::time AS quiet_start, $2::time AS quiet_end) r")
    async with pool.acquire() as conn:
        for start, end, local in QUIET_CASES:
            in_sql = await conn.fetchval(sql, start, end, local)
            assert in_sql == in_quiet_hours(start, end, local), (start, end, local)
    assert sum(in_quiet_hours(*c) for c in QUIET_CASES) == 7  # the table has both outcomes


# Which index each filter mix walks, on a representative 20,000-person table (300 rows are too
# few: a seq scan and a sort are then rightly cheaper): tests/dispatcher/test_select_plans.py.


async def test_selection_is_never_jit_compiled(pool: asyncpg.Pool[Any]) -> None:
    """JIT compiling took 360-410 ms for a 1 ms walk at 1,000,000 people: it must stay off.

    The service pool's connections have jit off for the session (no SET per selection), so
    with every plan over jit_above_cost the selection must still not be compiled, and the
    pool's release must not need the full reset for it.
    """
    area = fresh_area()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW jit") == "off"  # holds without a JIT provider too
        # Where a JIT provider is installed (Debian's postgresql-15 has none unless llvm is),
        # a control shows the setting is what stops compilation; without one, the session
        # setting and the clean release above and below are what can be checked.
        if await conn.fetchval("SELECT pg_jit_available()"):
            async with conn.transaction():
                await conn.execute("SET LOCAL jit_above_cost = 0")  # any plan would be compiled
                await conn.execute("SET LOCAL jit = on")
                control = await conn.fetch("EXPLAIN SELECT count(*) FROM responders")
                assert any("JIT:" in r[0] for r in control), "the control must be JIT-compiled"
            assert not conn.session_state, "SET LOCAL leaves no session state"
        async with conn.transaction():
            await conn.execute("SET LOCAL jit_above_cost = 0")
            plan = await explain_nearest(conn, lat=area.lat, lon=area.lon, radius_m=5000,
                                         clock=CLOCK, limit=20)
        assert not conn.session_state, "a selection must leave nothing for the pool to reset"
    assert "JIT:" not in plan, plan
