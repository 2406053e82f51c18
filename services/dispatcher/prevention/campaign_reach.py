"""Campaign reach: the notifier's reach events in, counts per district and team type out.

Each (message, status) is stored once (primary key), so a replayed or duplicated event
changes no count; the inbox claim makes the handler's transaction idempotent as well.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, get_args

import asyncpg
from pydantic import BaseModel

from baiying_shared.db import inbox
from baiying_shared.events import campaigns
from baiying_shared.events.campaigns import CampaignReachChanged, ReachStatus
from baiying_shared.events.envelope import Envelope
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.runtime import Runtime

GROUP = "dispatcher-campaigns"
CONSUMER = "dispatcher-campaigns"
RESIDENT = "resident"  # the team-type column of residents' rows


class ReachRow(BaseModel):
    audience: str
    district: str
    team_type: str  # "resident" for residents
    issued: int | None  # volunteers' messages the runs issued; residents are the notifier's
    sent: int
    delivered: int
    failed: int
    failed_by_code: dict[str, int]
    acknowledged: int
    opened: int


async def record(conn: asyncpg.Connection[Any], e: CampaignReachChanged) -> None:
    """Store one message's first arrival at a status (a repeat is ignored)."""
    await conn.execute(
        "INSERT INTO campaign_reach (message_id, status, campaign_id, run_id, audience,"
        " district, team_type, error_code, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (message_id, status) DO NOTHING",
        e.message_id, e.status, e.campaign_id, e.run_id, e.audience, e.district, e.team_type,
        e.error_code, e.at)


async def on_reach(pool: asyncpg.Pool[Any], env: Envelope[Any]) -> None:
    """A reach event, applied once."""
    async with pool.acquire() as conn, conn.transaction():
        if await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
            await record(conn, env.payload)


def make_consumer(rt: Runtime) -> EventConsumer:
    """Its own group, so a large campaign's reach never queues behind or ahead of call-outs'."""
    return EventConsumer(settings=rt.settings, group_id=GROUP, topics=[campaigns.REACH_TOPIC],
                         handle=route({CampaignReachChanged: partial(on_reach, rt.pool)}),
                         dead_letters=rt.producer)


_COUNTS = f"""
SELECT audience, district, coalesce(team_type, '{RESIDENT}') AS team_type,
    count(*) FILTER (WHERE status = 'sent') AS sent,
    count(*) FILTER (WHERE status = 'delivered') AS delivered,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,
    count(*) FILTER (WHERE status = 'opened') AS opened
FROM campaign_reach WHERE campaign_id = $1
GROUP BY 1, 2, 3
"""
_ISSUED = """
SELECT district, team_type, count(*) AS n FROM campaign_messages WHERE campaign_id = $1
GROUP BY 1, 2
"""
STATUSES = get_args(ReachStatus)
Key = tuple[str, str, str]
_FAILURES = f"""
SELECT audience, district, coalesce(team_type, '{RESIDENT}') AS team_type,
    coalesce(error_code::text, 'none') AS code, count(*) AS n
FROM campaign_reach WHERE campaign_id = $1 AND status = 'failed' GROUP BY 1, 2, 3, 4
"""


async def rows(conn: asyncpg.Connection[Any], campaign_id: uuid.UUID) -> list[ReachRow]:
    """Volunteers by district and team type (every group issued to, reached or not yet),
    then residents by district."""
    codes: dict[Key, dict[str, int]] = {}
    for f in await conn.fetch(_FAILURES, campaign_id):
        codes.setdefault((f["audience"], f["district"], f["team_type"]), {})[f["code"]] = f["n"]
    counted: dict[Key, dict[str, int]] = {
        (r["audience"], r["district"], r["team_type"]): {s: r[s] for s in STATUSES}
        for r in await conn.fetch(_COUNTS, campaign_id)}
    issued: dict[Key, int] = {("volunteer", r["district"], r["team_type"]): r["n"]
                              for r in await conn.fetch(_ISSUED, campaign_id)}
    keys = sorted(counted.keys() | issued.keys(), key=lambda k: (k[0] == RESIDENT, k[1], k[2]))
    zero = dict.fromkeys(STATUSES, 0)
    return [ReachRow(audience=a, district=d, team_type=t, issued=issued.get((a, d, t)),
                     failed_by_code=codes.get((a, d, t), {}), **counted.get((a, d, t), zero))
            for a, d, t in keys]
