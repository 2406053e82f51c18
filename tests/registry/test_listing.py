"""GET /v1/volunteers: keyset pages, filters, and the near query on PostGIS."""

from __future__ import annotations

import math
import uuid
from typing import Any

from tests.registry.conftest import Registry

SEAT = (26.4702, 116.0135)  # 宁都县 seat; this module's people live around it


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine, good to ~0.5% — enough to tell 1 km from 3 km."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


async def _all_pages(registry: Registry, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    async with registry.client() as c:
        for _ in range(50):
            page_params = {**params, **({"cursor": cursor} if cursor else {})}
            r = await c.get("/v1/volunteers", params=page_params)
            assert r.status_code == 200, r.text
            page = r.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items
    raise AssertionError("pagination never ended")


async def test_keyset_pages_cover_everything_once_in_order(registry: Registry) -> None:
    team = await registry.team("360730", "information_officer")
    made = {(await registry.volunteer(team))["id"] for _ in range(7)}
    got = await _all_pages(registry, {"team_id": team["id"], "limit": 3})
    ids = [v["id"] for v in got]
    assert set(ids) == made and len(ids) == len(made)
    assert ids == sorted(ids, key=uuid.UUID)


async def test_filters_by_type_and_district(registry: Registry) -> None:
    patrol = await registry.team("360729", "patrol")
    watch = await registry.team("360729", "building_watch")
    p = await registry.volunteer(patrol)
    w = await registry.volunteer(watch)
    got = await _all_pages(registry, {"district": "360729", "team_type": "building_watch"})
    assert [v["id"] for v in got] == [w["id"]]
    got = await _all_pages(registry, {"district": "360729"})
    assert {v["id"] for v in got} == {p["id"], w["id"]}


async def test_near_returns_exactly_those_within_the_radius(registry: Registry) -> None:
    team = await registry.team("360730")
    # People at 0.5, 1.5, 2.5 ... km north of the seat.
    placed = {}
    for k in range(6):
        home = {"lat": round(SEAT[0] + (0.5 + k) / 111.2, 6), "lon": SEAT[1]}
        placed[(await registry.volunteer(team, home=home))["id"]] = home
    got = await _all_pages(registry, {"near": f"{SEAT[0]},{SEAT[1]}", "radius_m": 3000,
                                      "team_id": team["id"], "limit": 2})
    expected = {i for i, h in placed.items() if _metres(SEAT, (h["lat"], h["lon"])) <= 3000}
    assert len(expected) == 3
    assert {v["id"] for v in got} == expected
    for v in got:
        assert abs(v["distance_m"] - _metres(SEAT, (v["home"]["lat"], v["home"]["lon"]))) < 20


async def test_bad_query_parameters_name_the_field(registry: Registry) -> None:
    cases = [
        ({"near": "26.4"}, "near"), ({"near": "a,b"}, "near"), ({"near": "26.4,116"}, "radius_m"),
        ({"radius_m": 100}, "near"), ({"near": "26.4,116", "radius_m": -5}, "radius_m"),
        ({"cursor": "!!nope"}, "cursor"), ({"limit": 0}, "limit"),
        ({"team_type": "x"}, "team_type"),
    ]
    async with registry.client() as c:
        for params, field in cases:
            r = await c.get("/v1/volunteers", params=params)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["detail"][0]["field"] == field, (params, r.json())
