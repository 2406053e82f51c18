"""The bureau's monthly figures from the dispatcher's own records: call-outs, people mobilised
(人次) by the five teams, time to staffed, and campaigns with their reach — per district and for
the city.

Teams and members on the books are the registry's (its roster view); this report is what
happened: who was called, who came, how fast.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from baiying_dispatcher.prevention import campaign_month
from baiying_dispatcher.prevention.campaign_month import CampaignMonth
from baiying_shared.deps import PgConn
from baiying_shared.errors import InvalidField

LOCAL = ZoneInfo("Asia/Shanghai")
TEAM_TYPES = ("patrol", "community_security", "security_volunteer", "building_watch",
              "information_officer")
CITY = "360700"
# The campaign figures' sum row goes by this key, not CITY: a city-wide subscriber's reach is
# labelled 360700 and would otherwise land on the total's key (it counts in the total only).
_CAMPAIGN_TOTAL = "all"
# Campaign columns of the CSV, in the order the page shows them.
CAMPAIGN_FIGURES = ("campaigns", "issued", "sent", "delivered", "failed", "acknowledged",
                    "opened")


@dataclass
class DistrictMonth:
    district: str
    callouts: int = 0
    advisories: int = 0
    staffed: int = 0
    median_to_staffed_s: float | None = None
    called: dict[str, int] = field(default_factory=dict)  # by team type
    mobilised: dict[str, int] = field(default_factory=dict)  # accepted or arrived, 人次
    arrived: dict[str, int] = field(default_factory=dict)
    campaigns: CampaignMonth = field(init=False)  # campaigns run and their reach

    def __post_init__(self) -> None:
        self.campaigns = CampaignMonth(self.district)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month given as YYYY-MM."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=LOCAL)
    except ValueError:
        raise InvalidField("month", "expected YYYY-MM, e.g. 2026-11", where="query") from None
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


_INCIDENTS = """
SELECT coalesce(district, $4) AS district,
       count(*) FILTER (WHERE kind = 'callout') AS callouts,
       count(*) FILTER (WHERE kind = 'advisory') AS advisories,
       count(*) FILTER (WHERE staffed_at IS NOT NULL) AS staffed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM staffed_at - created_at))
           FILTER (WHERE staffed_at IS NOT NULL) AS median_s
FROM incidents
WHERE created_at >= $1 AND created_at < $2 AND ($3::text[] IS NULL OR district = ANY($3))
GROUP BY GROUPING SETS ((district), ())
"""
_PEOPLE = """
SELECT coalesce(i.district, $4) AS district, c.team_type,
       count(*) AS called,
       count(*) FILTER (WHERE c.state IN ('accepted', 'arrived')) AS mobilised,
       count(*) FILTER (WHERE c.state = 'arrived') AS arrived
FROM callouts c JOIN incidents i ON i.id = c.incident_id AND i.kind = 'callout'
WHERE i.created_at >= $1 AND i.created_at < $2 AND ($3::text[] IS NULL OR i.district = ANY($3))
GROUP BY GROUPING SETS ((i.district, c.team_type), (c.team_type))
"""


async def monthly(conn: PgConn, *, month: str, districts: list[str] | None) -> list[DistrictMonth]:
    """One row per district with incidents or campaigns that month, then the city total
    (district 360700)."""
    start, end = month_bounds(month)
    rows: dict[str, DistrictMonth] = {}
    for r in await conn.fetch(_INCIDENTS, start, end, districts, CITY):
        rows[r["district"]] = DistrictMonth(
            district=r["district"], callouts=r["callouts"], advisories=r["advisories"],
            staffed=r["staffed"], median_to_staffed_s=r["median_s"])
    for r in await conn.fetch(_PEOPLE, start, end, districts, CITY):
        row = rows.setdefault(r["district"], DistrictMonth(r["district"]))
        row.called[r["team_type"]] = r["called"]
        row.mobilised[r["team_type"]] = r["mobilised"]
        row.arrived[r["team_type"]] = r["arrived"]
    await _add_campaigns(conn, rows, start, end, districts)
    city = rows.pop(CITY, DistrictMonth(CITY))
    return [*sorted(rows.values(), key=lambda d: d.district), city]


async def _add_campaigns(conn: PgConn, rows: dict[str, DistrictMonth], start: datetime,
                         end: datetime, districts: list[str] | None) -> None:
    figures = await campaign_month.month(conn, since=start, until=end, districts=districts,
                                         total=_CAMPAIGN_TOTAL)
    for m in figures:
        if m.district == CITY:
            continue  # city-wide subscribers: already in the total, in no district
        key = CITY if m.district == _CAMPAIGN_TOTAL else m.district
        row = rows.setdefault(key, DistrictMonth(key))
        row.campaigns = m
        m.district = key


def to_csv(rows: list[DistrictMonth], *, names: dict[str, str]) -> str:
    """The report as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["district", "name", "callouts", "advisories", "staffed",
                     "median_to_staffed_s", "mobilised_total",
                     *(f"mobilised_{t}" for t in TEAM_TYPES), "arrived_total",
                     *(f"campaign_{f}" if f != "campaigns" else f for f in CAMPAIGN_FIGURES)])
    for row in rows:
        median = "" if row.median_to_staffed_s is None else f"{row.median_to_staffed_s:.0f}"
        writer.writerow([row.district, names.get(row.district, row.district), row.callouts,
                         row.advisories, row.staffed, median, sum(row.mobilised.values()),
                         *(row.mobilised.get(t, 0) for t in TEAM_TYPES),
                         sum(row.arrived.values()),
                         *(getattr(row.campaigns, f) for f in CAMPAIGN_FIGURES)])
    return out.getvalue()
