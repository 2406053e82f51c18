"""District lines: an incident calls only the districts it may draw on, and their supervisors
see it (issue #11). On the real broker and database."""

from __future__ import annotations

from typing import Any

from baiying_dispatcher.areas import metres_outside
from baiying_shared.events.common import GeoPoint
from tests.dispatcher.conftest import System
from tests.dispatcher.support import offset, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n
from tests.dispatcher.test_scoping import listening
from tests.support import eventually

ZHANGGONG, NANKANG, GANXIAN = "360702", "360703", "360704"
# Incidents that 南康区 legitimately sees are raised by 赣县区 here, not 章贡区: the scope tests
# (tests/scope) check that 南康区 never reads anything naming 章贡区 in the same database.
# 南康区's county seat: inside 360703's cell, ~20 km from every support.fresh_area point.
IN_NANKANG = GeoPoint(lat=25.6617, lon=114.765)
RADIUS = 1000


def _nankang_point(n: int) -> GeoPoint:
    """Points 3 km apart inside 南康区, one per test; with RADIUS no test calls another's people."""
    here = offset(IN_NANKANG, north_m=3_000 * n)
    assert metres_outside(here.lat, here.lon, [NANKANG]) == 0.0, "the point left 南康区"
    return here


async def _raise(system: System, body: dict[str, Any], *districts: str) -> dict[str, Any]:
    async with system.client("duty_desk", *districts) as c:
        r = await c.post("/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _listed(system: System, district: str) -> set[str]:
    async with system.client("supervisor", district) as c:
        r = await c.get("/v1/incidents")
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()}


async def _record_status(system: System, district: str, incident_id: str) -> int:
    async with system.client("supervisor", district) as c:
        return (await c.get(f"/v1/incidents/{incident_id}")).status_code


async def test_own_district_only_even_when_the_point_lies_in_a_neighbour(system: System) -> None:
    here = _nankang_point(0)
    theirs = volunteer(here, 100, district=NANKANG)
    ours = volunteer(here, 300, district=ZHANGGONG)
    await system.add_volunteers([theirs, ours])
    inc = await _raise(system, incident_body(here, need={"total": 2}, radius_m=RADIUS), ZHANGGONG)
    [call] = await issued_n(system, inc["id"], 1)
    assert call.volunteer_id == ours.volunteer_id, "a 南康区 volunteer was called across the line"
    # Nobody of 南康区 was called, so its supervisor does not see the incident.
    assert inc["id"] not in await _listed(system, NANKANG)
    assert await _record_status(system, NANKANG, inc["id"]) == 404


async def test_cross_district_help_held_calls_the_neighbours(system: System) -> None:
    here = _nankang_point(1)
    theirs = volunteer(here, 100, district=NANKANG)
    ours = volunteer(here, 300, district=GANXIAN)
    await system.add_volunteers([theirs, ours])
    body = incident_body(here, need={"total": 2}, help_from=[NANKANG], radius_m=RADIUS,
                         district=GANXIAN)
    async with listening(system, NANKANG) as seen:
        inc = await _raise(system, body, GANXIAN, NANKANG)
        called = {c.volunteer_id for c in await issued_n(system, inc["id"], 2)}
        await eventually(lambda: _streamed(seen, inc["id"]), what="南康区's stream has it")
    assert called == {theirs.volunteer_id, ours.volunteer_id}
    # 南康区's people are called: its supervisor sees the incident in the list and the record.
    assert inc["id"] in await _listed(system, NANKANG)
    assert await _record_status(system, NANKANG, inc["id"]) == 200
    async with system.client("supervisor", GANXIAN) as c:
        audit = (await c.get(f"/v1/incidents/{inc['id']}/audit")).json()
    assert audit[0]["detail"]["help_from"] == [NANKANG]


async def _streamed(seen: list[dict[str, Any]], incident_id: str) -> bool:
    kinds = {n["type"] for n in seen if n.get("incident_id") == incident_id}
    return {"incident", "callout"} <= kinds


async def test_cross_district_help_not_held_is_refused_naming_the_field(system: System) -> None:
    body = incident_body(_nankang_point(2), need={"total": 1}, help_from=[NANKANG])
    async with system.client("duty_desk", ZHANGGONG) as c:
        r = await c.post("/v1/incidents", json=body)
    assert r.status_code == 403, r.text
    assert "help_from" in r.text and NANKANG in r.text


async def test_an_admin_approves_help_audited_and_the_neighbours_are_called(
    system: System,
) -> None:
    here = _nankang_point(3)
    theirs = volunteer(here, 100, district=NANKANG)
    await system.add_volunteers([theirs])
    inc = await _raise(system, incident_body(here, need={"total": 1}, radius_m=RADIUS,
                                             district=GANXIAN), GANXIAN)
    async with system.client("supervisor", GANXIAN) as sup:
        r = await sup.post(f"/v1/incidents/{inc['id']}/help",
                           json={"districts": [NANKANG], "reason": "赣县区无人可派"})
        assert r.status_code == 403, "only an admin approves another district's help"
    async with system.client("admin") as admin:
        r = await admin.post(f"/v1/incidents/{inc['id']}/help",
                             json={"districts": [NANKANG], "reason": "赣县区无人可派"})
        assert r.status_code == 200, r.text
    [call] = await issued_n(system, inc["id"], 1)
    assert call.volunteer_id == theirs.volunteer_id
    async with system.client("supervisor", NANKANG) as c:
        audit = (await c.get(f"/v1/incidents/{inc['id']}/audit")).json()
    approved = [a for a in audit if a["action"] == "approve_help"]
    assert approved and approved[0]["detail"] == {"districts": [NANKANG],
                                                  "reason": "赣县区无人可派"}
    assert inc["id"] in await _listed(system, NANKANG)


async def test_an_advisory_by_radius_keeps_to_its_district(system: System) -> None:
    here = _nankang_point(4)
    theirs = volunteer(here, 100, district=NANKANG)
    ours = volunteer(here, 300, district=GANXIAN)
    await system.add_volunteers([theirs, ours])
    body = incident_body(here, kind="advisory", need=None, radius_m=RADIUS, district=GANXIAN,
                         title="防范电信诈骗", advice="警惕冒充公检法的电话，不转账。")
    inc = await _raise(system, body, GANXIAN)
    assert inc["called"] == 1, inc
    [notice] = await issued_n(system, inc["id"], 1)
    assert notice.volunteer_id == ours.volunteer_id, "the circle reached across the line"
    assert inc["id"] not in await _listed(system, NANKANG)
