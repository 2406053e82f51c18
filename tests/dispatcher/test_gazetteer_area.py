"""The desk's service area: how far a point lies outside the districts it holds."""

from __future__ import annotations

import httpx
import pytest

from baiying_dispatcher.app import create_app
from baiying_dispatcher.areas import district_cells, metres_outside
from baiying_shared.auth import mint_token
from baiying_shared.events.common import GeoPoint
from baiying_shared.reference import districts
from tests.conftest import Infra
from tests.dispatcher.conftest import dispatcher_settings
from tests.dispatcher.test_mobilisation import incident_body
from tests.support import serving

ZHANGGONG, NANKANG = "360702", "360703"


def test_every_district_has_a_cell_containing_its_seat() -> None:
    assert set(district_cells()) == set(districts())
    for code, d in districts().items():
        assert metres_outside(d.lat, d.lon, [code]) == 0.0


def test_distance_outside_grows_with_distance() -> None:
    nankang = districts()[NANKANG]
    outside = metres_outside(nankang.lat, nankang.lon, [ZHANGGONG])
    assert 5_000 < outside < 30_000  # Nankang's seat is not in Zhanggong's cell
    assert metres_outside(nankang.lat, nankang.lon, [ZHANGGONG, NANKANG]) == 0.0
    assert metres_outside(30.0, 120.0, [ZHANGGONG]) > 500_000  # Hangzhou


def test_a_point_just_over_the_edge_is_a_short_way_out() -> None:
    ring = district_cells()[ZHANGGONG]
    (x1, y1), (x2, y2) = ring[0], ring[1]
    mid_lon, mid_lat = (x1 + x2) / 2, (y1 + y2) / 2
    assert metres_outside(mid_lat, mid_lon, [ZHANGGONG]) == pytest.approx(0.0, abs=50)


def test_unknown_districts_hold_nothing() -> None:
    assert metres_outside(25.8, 114.9, ["999999"]) == float("inf")


async def test_a_desk_may_not_raise_far_outside_its_districts(
    infra: Infra, database_url: str
) -> None:
    settings = dispatcher_settings(infra, database_url, dispatch_service_margin_m=5000)
    token = mint_token(settings, sub="desk-zg", role="duty_desk", districts=[ZHANGGONG])
    seat, nankang = districts()[ZHANGGONG], districts()[NANKANG]
    async with serving(create_app(settings)) as url, httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        far = await c.post("/v1/incidents", json=incident_body(
            GeoPoint(lat=nankang.lat, lon=nankang.lon), need={"total": 1}))
        assert far.status_code == 422, far.text
        [err] = far.json()["detail"]
        assert err["field"] == "location" and "km outside your districts (章贡区)" in err["message"]
        home = await c.post("/v1/incidents", json=incident_body(
            GeoPoint(lat=seat.lat, lon=seat.lon), need={"total": 1}))
        assert home.status_code == 201, home.text
