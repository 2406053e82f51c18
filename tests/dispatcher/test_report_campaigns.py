"""The monthly report's campaigns and their reach: per district and for the city, in the JSON
and the CSV, from a campaign sent through the API and reach stored by the reach consumer."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from baiying_dispatcher.prevention import campaign_reach
from baiying_dispatcher.prevention.report import CITY, LOCAL
from baiying_shared.events.campaigns import CampaignReachChanged, ReachStatus
from baiying_shared.events.envelope import wrap
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_campaign_schedule import NOW, around, campaign_body
from tests.support import eventually

ZHANGGONG, NANKANG = "360702", "360703"
FIGURES = ("campaigns", "issued", "sent", "delivered", "failed", "acknowledged", "opened")


async def report(system: System, month: str, *scope: str) -> dict[str, dict[str, Any]]:
    """The report as an admin (the whole city) or as a supervisor of `scope`."""
    async with system.client(*(("supervisor", *scope) if scope else ("admin",))) as c:
        r = await c.get("/v1/reports/monthly", params={"month": month})
    assert r.status_code == 200, r.text
    return {row["district"]: row for row in r.json()}


def figures(rows: dict[str, dict[str, Any]], district: str) -> dict[str, int]:
    row = rows.get(district)
    return {k: (row["campaigns"][k] if row else 0) for k in FIGURES}


def grown(after: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]],
          district: str) -> dict[str, int]:
    """What this test added to a district's campaign figures (others' runs came before)."""
    now, was = figures(after, district), figures(before, district)
    return {k: now[k] - was[k] for k in FIGURES if now[k] != was[k]}


async def send_campaign(system: System) -> tuple[uuid.UUID, list[Any]]:
    """Three volunteers near a fresh spot (two in 章贡区, one in 南康区), one campaign now."""
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 10.0), volunteer(area, 20.0),
                                 volunteer(area, 30.0, district=NANKANG)])
    async with system.client("admin") as c:
        r = await c.post("/v1/campaigns", json=campaign_body(around(area), NOW))
    assert r.status_code == 201, r.text
    cid = uuid.UUID(r.json()["id"])
    messages = await eventually(lambda: system.pool.fetch(
        "SELECT * FROM campaign_messages WHERE campaign_id = $1 ORDER BY district", cid),
        timeout=30, what="the run's messages")
    assert [m["district"] for m in messages] == [ZHANGGONG, ZHANGGONG, NANKANG]
    return cid, messages


async def reach(system: System, cid: uuid.UUID, message: Any, status: ReachStatus) -> None:
    """One reach event through the consumer's own handler, as the notifier would send it."""
    resident = message is None  # a city-wide subscriber opening the page
    event = CampaignReachChanged(
        campaign_id=cid, run_id=(await system.pool.fetchval(
            "SELECT run_id FROM campaign_messages WHERE campaign_id = $1 LIMIT 1", cid)),
        message_id=uuid.uuid4() if resident else message["message_id"],
        audience="resident" if resident else "volunteer",
        district=CITY if resident else message["district"],
        team_type=None if resident else message["team_type"],
        status=status, error_code=30003 if status == "failed" else None, at=datetime.now(UTC))
    await campaign_reach.on_reach(system.pool, wrap(event, producer="notifier"))


async def test_campaigns_and_reach_per_district_and_for_the_city(system: System) -> None:
    month = datetime.now(LOCAL).strftime("%Y-%m")
    before, before_nk = await report(system, month), await report(system, month, NANKANG)
    cid, (a, b, c) = await send_campaign(system)
    for message, status in ((a, "sent"), (a, "delivered"), (a, "acknowledged"), (b, "sent"),
                            (c, "failed"), (None, "opened")):
        await reach(system, cid, message, status)
    after, after_nk = await report(system, month), await report(system, month, NANKANG)

    assert grown(after, before, ZHANGGONG) == {
        "campaigns": 1, "issued": 2, "sent": 2, "delivered": 1, "acknowledged": 1}
    assert grown(after, before, NANKANG) == {"campaigns": 1, "issued": 1, "failed": 1}
    # The city-wide subscriber's opened page counts in the city only, in no district.
    assert grown(after, before, CITY) == {
        "campaigns": 1, "issued": 3, "sent": 2, "delivered": 1, "failed": 1,
        "acknowledged": 1, "opened": 1}
    # A 南康区 supervisor sees 南康区 and a total over 南康区 alone.
    assert set(after_nk) == {NANKANG, CITY}
    assert grown(after_nk, before_nk, CITY) == {"campaigns": 1, "issued": 1, "failed": 1}


async def test_the_csv_carries_the_campaign_columns(system: System) -> None:
    month = datetime.now(LOCAL).strftime("%Y-%m")
    cid, (a, _, _) = await send_campaign(system)
    await reach(system, cid, a, "sent")
    shown = await report(system, month)
    async with system.client("admin") as admin:
        r = await admin.get("/v1/reports/monthly", params={"month": month, "format": "csv"})
    assert r.status_code == 200, r.text
    lines = {row["district"]: row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
    for district in (ZHANGGONG, NANKANG, CITY):
        got = {k: int(lines[district][k if k == "campaigns" else f"campaign_{k}"])
               for k in FIGURES}
        assert got == figures(shown, district)
    assert int(lines[CITY]["campaign_issued"]) >= 3 and int(lines[CITY]["campaign_sent"]) >= 1
