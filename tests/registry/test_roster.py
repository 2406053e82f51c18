"""Issue 11 (2): the roster counts people per district and team type, and drills down."""

from __future__ import annotations

from baiying_shared.privacy import mask_phone
from tests.registry.conftest import Registry
from tests.registry.test_events import _send
from tests.registry.test_reachability import _flag, _opt, _until


async def test_roster_counts_and_drill_down_within_the_supervisors_district(
    registry: Registry,
) -> None:
    team = await registry.team("360723", "building_watch")
    other = await registry.team("360724", "building_watch")
    ok = await registry.volunteer(team, channels=["sms", "app"])
    off = await registry.volunteer(team, on_duty=False)
    stopped = await registry.volunteer(team)
    blocked = await registry.volunteer(team)
    await registry.volunteer(other)
    await _send(registry, _opt(stopped["phone"], out=True, keyword="STOP"), stopped["phone"])
    await _send(registry, _flag(blocked["phone"], 30004), blocked["phone"])
    await _until(registry, stopped["id"], "opted_out")
    await _until(registry, blocked["id"], "carrier_blocked")
    async with registry.client("supervisor", "360723") as c:
        rows = (await c.get("/v1/roster")).json()
        assert (await c.get("/v1/roster", params={"district": "360724"})).status_code == 403
        people = (await c.get("/v1/roster/people", params={
            "district": "360723", "team_type": "building_watch"})).json()
        only = (await c.get("/v1/roster/people", params={
            "team_type": "building_watch", "sms": "opted_out"})).json()
    assert [(r["district"], r["team_type"]) for r in rows] == [("360723", "building_watch")]
    row = rows[0]
    assert (row["teams"], row["people"], row["on_duty_now"]) == (1, 4, 3)
    assert (row["reachable_sms"], row["reachable_app"]) == (2, 1)
    assert (row["opted_out"], row["carrier_blocked"], row["invalid"]) == (1, 1, 0)
    assert {p["id"] for p in people} == {ok["id"], off["id"], stopped["id"], blocked["id"]}
    assert {p["phone"] for p in people} == {mask_phone(v["phone"])
                                           for v in (ok, off, stopped, blocked)}
    assert [p["id"] for p in only] == [stopped["id"]]
