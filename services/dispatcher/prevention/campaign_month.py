"""Campaign figures for the bureau's monthly report: per district and for the city (`total`),
counted over the runs that started in [since, until) — campaigns, messages issued to
volunteers, and reach by status (volunteers and residents together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from baiying_dispatcher.prevention.campaign_reach import STATUSES
from baiying_shared.deps import PgConn

_RUNS = ("SELECT id FROM campaign_runs"
         " WHERE outcome = 'sent' AND started_at >= $1 AND started_at < $2")
_GROUPED = """
SELECT coalesce(district, $4) AS district, {columns}
FROM ({rows}) x WHERE ($3::text[] IS NULL OR district = ANY($3::text[]))
GROUP BY GROUPING SETS ((district), ())
"""
_MESSAGES = f"SELECT m.district, m.campaign_id FROM campaign_messages m WHERE m.run_id IN ({_RUNS})"
_REACHED = ("SELECT r.district, r.campaign_id, r.status FROM campaign_reach r"
            f" WHERE r.run_id IN ({_RUNS})")
_COUNTS = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in STATUSES)


@dataclass
class CampaignMonth:
    district: str  # `total` for the sum over the districts asked for
    campaigns: int = 0
    issued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    acknowledged: int = 0
    opened: int = 0


async def month(conn: PgConn, *, since: datetime, until: datetime,
                districts: Sequence[str] | None, total: str) -> list[CampaignMonth]:
    """Districts with any campaign activity in the window, then the `total` row."""
    scope = None if districts is None else list(districts)
    args = (since, until, scope, total)
    both = (f"SELECT district, campaign_id FROM ({_MESSAGES}) a UNION ALL"
            f" SELECT district, campaign_id FROM ({_REACHED}) b")
    out: dict[str, CampaignMonth] = {}
    for sql in (_GROUPED.format(columns="count(DISTINCT campaign_id) AS campaigns", rows=both),
                _GROUPED.format(columns="count(*) AS issued", rows=_MESSAGES),
                _GROUPED.format(columns=_COUNTS, rows=_REACHED)):
        for r in await conn.fetch(sql, *args):
            row = out.setdefault(r["district"], CampaignMonth(r["district"]))
            for key, value in dict(r).items():
                if key != "district":
                    setattr(row, key, value)
    return sorted(out.values(), key=lambda m: (m.district == total, m.district))
