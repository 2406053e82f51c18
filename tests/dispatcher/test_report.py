"""The monthly report: call-outs, people mobilised by team, time to staffed, per district."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baiying_dispatcher.prevention.report import LOCAL, month_bounds
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n
from tests.support import eventually

NANKANG = "360703"


def test_months_are_local_calendar_months() -> None:
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 12, 1, tzinfo=LOCAL)
    assert end == datetime(2027, 1, 1, tzinfo=LOCAL)


async def report(system: System, month: str, *districts: str) -> dict[str, dict[str, Any]]:
    async with system.client("supervisor", *districts) as c:
        r = await c.get("/v1/reports/monthly", params={"month": month})
    assert r.status_code == 200, r.text
    return {row["district"]: row for row in r.json()}


def mobilised(row: dict[str, Any] | None, team: str) -> int:
    return 0 if row is None else int(row["mobilised"].get(team, 0))


async def test_a_staffed_call_out_counts_in_its_district_and_the_total(system: System) -> None:
    month = datetime.now(LOCAL).strftime("%Y-%m")
    before = await report(system, month, NANKANG)
    area = fresh_area()
    await system.add_volunteers([
        volunteer(area, 100, district=NANKANG, team_type="building_watch"),
        volunteer(area, 200, district=NANKANG, team_type="building_watch"),
    ])
    async with system.client("duty_desk", NANKANG) as desk:
        raised = await desk.post("/v1/incidents", json=incident_body(
            area, district=NANKANG, need={"total": 1}))
        assert raised.status_code == 201, raised.text
        inc = raised.json()
        first, _ = await issued_n(system, inc["id"], 2)
        r = await desk.post(f"/v1/incidents/{inc['id']}/callouts/{first.callout_id}/reply",
                            json={"action": "accept", "note": "电话确认"})
        assert r.status_code == 200, r.text

    async def staffed() -> bool:
        async with system.client("supervisor", NANKANG) as c:
            return bool((await c.get(f"/v1/incidents/{inc['id']}")).json()["status"] == "staffed")

    await eventually(staffed, timeout=20, what="staffed")
    after = await report(system, month, NANKANG)
    row, was = after[NANKANG], before.get(NANKANG)
    assert row["name"] == "南康区"
    assert row["callouts"] - (was["callouts"] if was else 0) == 1
    assert row["staffed"] - (was["staffed"] if was else 0) == 1
    assert mobilised(row, "building_watch") - mobilised(was, "building_watch") == 1
    assert row["median_to_staffed_s"] is not None and row["median_to_staffed_s"] >= 0
    total = after["360700"]
    assert total["name"] == "合计" and total["callouts"] == sum(
        r["callouts"] for d, r in after.items() if d != "360700")

    async with system.client("admin") as admin:
        csv_text = (await admin.get("/v1/reports/monthly",
                                    params={"month": month, "format": "csv"})).text
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("district,name,callouts")
    assert any(line.startswith(f"{NANKANG},南康区,") for line in lines)
    assert lines[-1].startswith("360700,赣州市,")


async def test_districts_outside_ones_own_are_not_reported(system: System) -> None:
    month = datetime.now(LOCAL).strftime("%Y-%m")
    assert NANKANG not in await report(system, month, "360702")


async def test_a_bad_month_is_refused_naming_the_field(system: System) -> None:
    async with system.client("supervisor") as c:
        for bad in ("2026-13", "November"):
            r = await c.get("/v1/reports/monthly", params={"month": bad})
            assert r.status_code == 422 and "month" in r.text, r.text
