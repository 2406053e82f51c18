"""Campaign figures for the monthly report: campaigns, messages issued and reach per district
and for the city, over the runs of the window only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from baiying_dispatcher.prevention.campaign_month import CampaignMonth, month
from baiying_shared.events import campaigns
from baiying_shared.events.campaigns import CampaignReachChanged
from tests.dispatcher.conftest import System
from tests.dispatcher.support import publish
from tests.dispatcher.test_report_campaigns import send_campaign
from tests.support import eventually


def _less(after: list[CampaignMonth], before: list[CampaignMonth]) -> list[CampaignMonth]:
    """What changed per district between two readings (other tests' campaigns share the
    database and the hour, so the test counts only what its own campaign added)."""
    prior = {row.district: row for row in before}
    fields = ("campaigns", "issued", "sent", "delivered", "failed", "acknowledged", "opened")
    out = []
    for row in after:
        was = prior.get(row.district, CampaignMonth(row.district))
        delta = CampaignMonth(row.district, **{f: getattr(row, f) - getattr(was, f)
                                               for f in fields})
        if delta != CampaignMonth(row.district) or row.district == "360700":
            out.append(delta)
    return out


async def _figures(system: System, since: datetime) -> dict[str, list[CampaignMonth]]:
    """This hour for the city and for 360703, and the hour before it for 360703."""
    async with system.pool.acquire() as conn:
        return {
            "all": await month(conn, since=since, until=since + timedelta(hours=1),
                               districts=None, total="360700"),
            "mine": await month(conn, since=since, until=since + timedelta(hours=1),
                                districts=["360703"], total="360700"),
            "before": await month(conn, since=since - timedelta(hours=1), until=since,
                                  districts=["360703"], total="360700"),
        }


async def test_a_month_counts_its_runs_messages_and_reach(system: System) -> None:
    since = datetime.now(UTC)
    start = await _figures(system, since)
    cid, rows = await send_campaign(system)  # 2 messages in 360702, 1 in 360703
    resident = uuid.uuid4()
    for m, status, audience in ((rows[0], "sent", "volunteer"), (rows[0], "delivered", "volunteer"),
                                (rows[2], "failed", "volunteer"), (None, "opened", "resident")):
        await publish(system.producer, system.settings, campaigns.REACH_TOPIC, str(cid),
                      CampaignReachChanged(
                          campaign_id=cid, run_id=rows[0]["run_id"],
                          message_id=m["message_id"] if m else resident, audience=audience,
                          district=m["district"] if m else "360702",
                          team_type=m["team_type"] if m else None,
                          status=status, error_code=None, at=datetime.now(UTC)))
    await eventually(lambda: system.pool.fetchval(
        "SELECT count(*) = 4 FROM campaign_reach WHERE campaign_id = $1", cid), timeout=30,
        what="reach stored")
    end = await _figures(system, since)
    assert _less(end["all"], start["all"]) == [
        CampaignMonth("360702", campaigns=1, issued=2, sent=1, delivered=1, opened=1),
        # The failed message was a 360703 volunteer's.
        CampaignMonth("360703", campaigns=1, issued=1, failed=1),
        CampaignMonth("360700", campaigns=1, issued=3, sent=1, delivered=1, failed=1, opened=1),
    ]
    assert _less(end["mine"], start["mine"]) == [
        CampaignMonth("360703", campaigns=1, issued=1, failed=1),
        CampaignMonth("360700", campaigns=1, issued=1, failed=1)]
    assert end["before"] == start["before"], "a run of this hour counted in the hour before"
