"""Hotspots: incidents by grid cell and hour of the week (pure rules, then the API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baiying_dispatcher.prevention.hotspots import (
    LOCAL,
    Point,
    cells,
    hour_label,
    hour_of_week,
    suggested_send,
    week_matrix,
)
from baiying_shared.events.common import GeoPoint
from tests.dispatcher.conftest import System
from tests.dispatcher.test_mobilisation import incident_body, raise_incident

FRIDAY_21 = datetime(2026, 11, 27, 21, 15, tzinfo=LOCAL)  # a Friday evening in Ganzhou


def at(lat: float, lon: float, when: datetime = FRIDAY_21, category: str = "theft") -> Point:
    return Point(lat, lon, when, category)


def test_hour_of_week_is_local_time() -> None:
    assert hour_of_week(FRIDAY_21) == 4 * 24 + 21
    # 13:15 UTC is 21:15 in Ganzhou: the same hour.
    assert hour_of_week(FRIDAY_21.astimezone(UTC)) == 4 * 24 + 21
    assert hour_label(4 * 24 + 21) == "周五 21:00" and hour_label(0, "en") == "Mon 00:00"


def test_each_point_lands_in_exactly_one_cell_and_the_busiest_comes_first() -> None:
    market = [at(25.8300 + i * 0.0005, 114.9300 + i * 0.0005) for i in range(4)]  # ~300 m
    station = [at(25.8600, 114.9700, category="fraud")]  # ~4 km away
    found = cells(market + station, cell_m=500)
    assert sum(c.count for c in found) == 5
    for p in market + station:
        holders = [c for c in found if c.south <= p.lat < c.north and c.west <= p.lon < c.east]
        assert len(holders) == 1, p
    assert found[0].count >= 2 and found[0].categories == {"theft": found[0].count}
    assert found[-1].categories == {"fraud": 1}
    assert (found[0].north - found[0].south) * 111_320 == pytest.approx(500)
    assert [c.count for c in found] == sorted((c.count for c in found), reverse=True)


def test_one_big_cell_holds_everything_nearby() -> None:
    pts = [at(25.83 + i * 0.001, 114.93) for i in range(5)]  # within 450 m north-south
    (only,) = cells(pts, cell_m=5000)
    assert only.count == 5 and only.peak_hour == 4 * 24 + 21


def test_week_matrix_and_suggested_send() -> None:
    pts = [at(25.83, 114.93), at(25.83, 114.93, FRIDAY_21 + timedelta(days=7)),
           at(25.83, 114.93, FRIDAY_21 - timedelta(hours=20))]
    week = week_matrix(pts)
    assert len(week) == 168 and week[4 * 24 + 21] == 2 and sum(week) == 3
    (cell,) = cells(pts, cell_m=500)
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=LOCAL)
    assert suggested_send(cell, now=monday) == datetime(2026, 12, 4, 19, 0, tzinfo=LOCAL)
    late_friday = datetime(2026, 12, 4, 20, 0, tzinfo=LOCAL)  # past 19:00: next week
    assert suggested_send(cell, now=late_friday) == datetime(2026, 12, 11, 19, 0, tzinfo=LOCAL)


async def test_the_api_ranks_cells_of_ones_own_districts(system: System) -> None:
    market = GeoPoint(lat=25.8410, lon=114.9400)
    for i in range(3):
        here = GeoPoint(lat=market.lat + i * 0.0003, lon=market.lon)
        await raise_incident(system, incident_body(here, category="robbery"))
    await raise_incident(system, incident_body(GeoPoint(lat=25.7900, lon=114.9000),
                                               category="theft"))
    async with system.client("supervisor") as c:
        r = await c.get("/v1/hotspots", params={"cell_m": 300, "days": 1, "top": 200})
        assert r.status_code == 200, r.text
        body = r.json()
        # Other tests of this session raise incidents too: find the market's cell.
        (top,) = [x for x in body["cells"] if x["south"] <= market.lat < x["north"]
                  and x["west"] <= market.lon < x["east"]]
        assert top["categories"].get("robbery", 0) >= 3
        counts = [x["count"] for x in body["cells"]]
        assert counts == sorted(counts, reverse=True)
        assert len(body["week"]) == 168 and sum(body["week"]) == body["total"] >= 4
        only_theft = (await c.get("/v1/hotspots", params={"category": "theft"})).json()
        assert set().union(*(x["categories"] for x in only_theft["cells"])) == {"theft"}
        bad = await c.get("/v1/hotspots", params={"cell_m": 5})
        assert bad.status_code == 422 and "cell_m" in bad.text
    async with system.client("supervisor", "360703") as other:
        assert (await other.get("/v1/hotspots")).json()["total"] == 0
