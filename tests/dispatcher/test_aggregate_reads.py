"""The list page is built from one call-out query: each row must match that incident's detail."""

from __future__ import annotations

from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import detail, incident_body, issued_n, raise_incident
from tests.support import eventually


async def test_the_list_matches_each_incidents_detail(system: System) -> None:
    busy, quiet = fresh_area(), fresh_area()
    await system.add_volunteers([volunteer(busy, d) for d in (100, 200, 300)])
    staffed = await raise_incident(system, incident_body(busy, need={"total": 1}))
    calls = await issued_n(system, staffed["id"], 2)
    await reply(system.producer, system.settings, calls[0], "accept")
    nobody = await raise_incident(system, incident_body(quiet, need={"total": 1}))

    async def staffed_now() -> bool:
        return bool((await detail(system, staffed["id"]))["status"] == "staffed")

    await eventually(staffed_now, what="staffed")
    async with system.client("supervisor") as c:
        r = await c.get("/v1/incidents", params={"limit": 200})
    assert r.status_code == 200, r.text
    listed = {i["id"]: i for i in r.json()}
    for inc in (staffed, nobody):
        one = await detail(system, inc["id"])
        row = listed[inc["id"]]
        for field in ("status", "counts", "deliveries", "accepted", "called", "coverage"):
            assert row[field] == one[field], field
    assert listed[staffed["id"]]["accepted"] == 1 and listed[staffed["id"]]["called"] == 2
    assert listed[nobody["id"]]["called"] == 0
