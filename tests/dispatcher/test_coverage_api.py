"""Coverage on the wire: IncidentOut and stream notices show the one figure, staffed when full."""

from __future__ import annotations

from typing import Any

from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import detail, incident_body, issued_n, raise_incident
from tests.dispatcher.test_scoping import listening
from tests.support import eventually


async def test_acceptances_that_do_not_fit_are_not_progress(system: System) -> None:
    area = fresh_area()
    guards = [volunteer(area, d, team_type="community_security") for d in (100, 150, 200)]
    patrol = volunteer(area, 300)
    await system.add_volunteers([*guards, patrol])
    inc = await raise_incident(system, incident_body(area, need={"total": 2,
                                                                 "teams": {"patrol": 1}}))
    assert inc["coverage"]["required"] == 2 and inc["coverage"]["filled"] == 0
    calls = {c.volunteer_id: c for c in await issued_n(system, inc["id"], 3)}
    async with listening(system, "360702") as seen:
        for g in guards[:2]:
            await reply(system.producer, system.settings, calls[g.volunteer_id], "accept")

        async def two_accepted() -> dict[str, Any] | None:
            d = await detail(system, inc["id"])
            return d if d["coverage"]["accepted"] == 2 else None
        d = await eventually(two_accepted, what="two acceptances")
        # Two guards accepted, but only one fills a slot: patrol is still missing.
        assert d["status"] == "mobilising"
        assert (d["coverage"]["filled"], d["coverage"]["required"]) == (1, 2)
        assert d["missing"] == d["coverage"]["missing"] == {"team:patrol": 1}
        [patrol_line] = [ln for ln in d["coverage"]["lines"] if ln["key"] == "team:patrol"]
        assert patrol_line["outstanding"] == 1  # the patrol called could still fill it

        await reply(system.producer, system.settings, calls[patrol.volunteer_id], "accept")

        async def staffed() -> dict[str, Any] | None:
            d = await detail(system, inc["id"])
            return d if d["status"] == "staffed" else None
        d = await eventually(staffed, what="staffed")
        assert d["coverage"]["complete"] and d["coverage"]["filled"] == 2
        assert d["coverage"]["accepted"] == 3 and d["missing"] == {}

        async def notice_complete() -> list[dict[str, Any]] | None:
            got = [n for n in seen if n.get("incident_id") == inc["id"]
                   and n.get("type") == "incident" and n.get("status") == "staffed"]
            return got or None
        [notice] = await eventually(notice_complete, what="staffed notice on the stream")
        assert notice["coverage"] == {**d["coverage"], "outstanding": 0}


async def test_stats_count_slots_filled_not_acceptances(system: System) -> None:
    area = fresh_area()
    a, b = volunteer(area, 100, district="360724"), volunteer(area, 200, district="360724")
    await system.add_volunteers([a, b])
    async with system.client("duty_desk", "360724") as c:
        r = await c.post("/v1/incidents", json=incident_body(area, district="360724",
                                                             need={"total": 1}))
        assert r.status_code == 201, r.text
    calls = await issued_n(system, r.json()["id"], 2)
    for call in calls:
        await reply(system.producer, system.settings, call, "accept")

    async def totals() -> dict[str, int] | None:
        async with system.client("supervisor", "360724") as c:
            got: dict[str, int] = (await c.get("/v1/stats")).json()["coverage"]
        return got if got.get("complete") == 1 else None
    got = await eventually(totals, what="stats coverage")
    # Staffed by the first yes; the second is stood down and fills nothing.
    assert got == {"incidents": 1, "complete": 1, "filled": 1, "required": 1}
