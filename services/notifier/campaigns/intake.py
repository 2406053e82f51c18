"""Consume prevention.campaigns.v1 a poll at a time: campaign SMS queued last, each once.

A volunteer's message arrives as one event; a residents' request is fanned out here to the
notifier's own subscribers of its districts (message id uuid5(run, subscriber)). The
campaign_messages insert is the claim against a second SMS: a redelivered event, or a
re-run of the same run, finds its message id there and queues nothing. A cancel recalls the
campaign's SMS still pending (one the sender already claimed is with the carrier) and is
remembered, so its messages still on other partitions are queued as cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from baiying_notifier import queueing
from baiying_notifier.campaigns import expiry, reach, tokens
from baiying_notifier.domain.pacing import PRIORITY
from baiying_shared.db import inbox
from baiying_shared.deps import PgConn
from baiying_shared.events import campaigns
from baiying_shared.ids import new_id
from baiying_shared.kafka.consumer import Message
from baiying_shared.logging import get_logger
from baiying_shared.sms.links import link
from baiying_shared.sms.templates import Language, render

log = get_logger(__name__)
CONSUMER = "notifier"
_KINDS = (
    campaigns.CampaignMessageIssued,
    campaigns.CampaignResidentsRequested,
    campaigns.CampaignCancelled,
)


@dataclass(frozen=True)
class Recipient:
    """One campaign SMS to queue (a volunteer's, or a resident subscriber's)."""

    message_id: uuid.UUID
    campaign_id: uuid.UUID
    run_id: uuid.UUID
    case_id: uuid.UUID | None
    audience: str
    recipient_id: uuid.UUID
    phone: str
    language: Language
    district: str
    team_type: str | None
    title: str
    advice: str
    not_after: datetime


async def on_batch(pool: asyncpg.Pool[Any], messages: list[Message], *, base_url: str) -> None:
    """One partition's poll in one transaction; new pending rows announced at commit."""
    envs = [m.envelope for m in messages
            if m.envelope is not None and isinstance(m.envelope.payload, _KINDS)]  # fmt: skip
    if not envs:
        return
    async with pool.acquire() as conn, conn.transaction():
        fresh = await inbox.claim_many(conn, event_ids=[e.event_id for e in envs],
                                       consumer=CONSUMER)  # fmt: skip
        todo: dict[uuid.UUID, Recipient] = {}
        for env in envs:
            if env.event_id in fresh:
                fresh.discard(env.event_id)
                if isinstance(env.payload, campaigns.CampaignCancelled):
                    await recall(conn, env.payload)
                    continue
                for r in await _recipients(conn, env.payload):
                    todo.setdefault(r.message_id, r)  # a copy inside the poll: once
        seqs = await queue(conn, list(todo.values()), base_url=base_url)
        await queueing.announce(conn, seqs)


_CANCELS = """
INSERT INTO campaign_cancels (campaign_id, cancelled_at) VALUES ($1, $2)
ON CONFLICT (campaign_id) DO NOTHING
"""
# Locked in id order and waited for (no SKIP LOCKED): a row the sender is claiming right now
# is then either claimed (with the carrier: it goes) or still pending (recalled), never missed.
_RECALL = f"""
WITH gone AS (
    UPDATE deliveries SET state = 'cancelled', updated_at = now(),
        body = regexp_replace(body, '{reach.TOKEN_IN_BODY}', '{reach.SCRUBBED}') WHERE id IN (
        SELECT id FROM deliveries WHERE incident_id = $1 AND message = '{reach.MESSAGE}'
          AND state = 'pending' ORDER BY id FOR UPDATE)
    RETURNING 1)
UPDATE campaign_cancels SET recalled = recalled + (SELECT count(*) FROM gone)
WHERE campaign_id = $1 RETURNING recalled
"""


async def recall(conn: PgConn, p: campaigns.CampaignCancelled) -> None:
    """Remember the cancel and cancel the campaign's SMS not yet handed to the carrier."""
    await conn.execute(_CANCELS, p.campaign_id, p.cancelled_at)
    recalled = await conn.fetchval(_RECALL, p.campaign_id)
    log.info("campaign cancelled: queued SMS recalled", campaign_id=str(p.campaign_id),
             recalled=recalled)  # fmt: skip


async def _recipients(conn: PgConn, p: Any) -> list[Recipient]:
    if isinstance(p, campaigns.CampaignMessageIssued):
        return [Recipient(p.message_id, p.campaign_id, p.run_id, p.case_id, "volunteer",
                          p.volunteer_id, p.phone, p.language, p.district, p.team_type,
                          p.title, p.advice, p.not_after)]  # fmt: skip
    return await residents(conn, p)


# Reach of a city-wide subscriber (no district) in a request naming none: the city's code.
CITY = "360700"  # 赣州市


async def residents(conn: PgConn, p: campaigns.CampaignResidentsRequested) -> list[Recipient]:
    """The live subscribers of the request's districts (city-wide ones too; no districts named:
    every subscriber), in their language."""
    rows = await conn.fetch(
        "SELECT subscriber_id, phone, language, district FROM subscribers WHERE ended_at IS NULL"
        " AND (district IS NULL OR cardinality($1::text[]) = 0 OR district = ANY($1::text[]))",
        list(p.districts),
    )
    label = p.districts[0] if p.districts else CITY
    out = []
    for r in rows:
        zh = r["language"] == "zh"
        out.append(Recipient(
            campaigns.message_id(p.run_id, r["subscriber_id"]), p.campaign_id, p.run_id,
            p.case_id, "resident", r["subscriber_id"], r["phone"], r["language"],
            r["district"] or label, None, p.title_zh if zh else p.title_en,
            p.advice_zh if zh else p.advice_en, p.not_after,
        ))  # fmt: skip
    return out


_MESSAGES = """
INSERT INTO campaign_messages (message_id, campaign_id, run_id, case_id, audience, recipient_id,
    phone, language, district, team_type, title, advice, token_hash, not_after)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[],
    $14::timestamptz[])
ON CONFLICT (message_id) DO NOTHING RETURNING message_id
"""

# Expired (or about to: expiry.EARLY_S) before it could go, or its campaign cancelled:
# cancelled, never sent. Opted out: suppressed, reported failed.
_SMS = f"""
INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message, priority,
                        rank, phone, body, segments, state, error_code)
SELECT v.id, m.message_id, m.campaign_id, m.recipient_id, 'sms', '{reach.MESSAGE}', $5, 0,
       m.phone, v.body, v.segments,
       CASE WHEN m.not_after <= now() + make_interval(secs => $6) OR k.campaign_id IS NOT NULL
            THEN 'cancelled' WHEN o.phone IS NOT NULL THEN 'suppressed' ELSE 'pending' END,
       CASE WHEN m.not_after > now() + make_interval(secs => $6) AND k.campaign_id IS NULL
            AND o.phone IS NOT NULL THEN 21610 END
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[])
     WITH ORDINALITY AS v(id, message_id, body, segments, n)
JOIN campaign_messages m USING (message_id)
LEFT JOIN opt_outs o ON o.phone = m.phone AND o.opted_out
LEFT JOIN campaign_cancels k ON k.campaign_id = m.campaign_id
ORDER BY v.n
ON CONFLICT (callout_id, message, channel) DO NOTHING
RETURNING id, seq, callout_id, state
"""


async def queue(conn: PgConn, todo: list[Recipient], *, base_url: str) -> list[int]:
    """Message rows (with a fresh link token each) and SMS rows; the new pending rows' seqs."""
    if not todo:
        return []
    links = {r.message_id: tokens.new_token() for r in todo}
    columns = [[getattr(r, f) for r in todo] for f in Recipient.__dataclass_fields__]
    hashes = [tokens.digest(links[r.message_id]) for r in todo]
    new = {row["message_id"] for row in await conn.fetch(
        _MESSAGES, *columns[:12], hashes, columns[12])}  # fmt: skip
    fresh = [r for r in todo if r.message_id in new]
    bodies = [render("campaign", r.language, title=r.title, advice=r.advice,
                     link=link(base_url, links[r.message_id])) for r in fresh]  # fmt: skip
    rows = await conn.fetch(
        _SMS, [new_id() for _ in fresh], [r.message_id for r in fresh],
        [b.text for b in bodies], [b.segments for b in bodies], PRIORITY["campaign"],
        expiry.EARLY_S,
    )  # fmt: skip
    suppressed = [r["callout_id"] for r in rows if r["state"] == "suppressed"]
    if suppressed:
        await reach.record(conn, message_ids=suppressed, status="failed", error_code=21610)
    await reach.scrub(conn, delivery_ids=[r["id"] for r in rows if r["state"] != "pending"])
    return [r["seq"] for r in rows if r["state"] == "pending"]
