"""Consume dispatch.callouts.v1: turn each call-out message into delivery rows, once.

The row insert is the claim: UNIQUE (callout_id, message, channel) means a redelivered
or re-published event finds its row already there and queues nothing new.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

import asyncpg

from baiying_notifier import events
from baiying_notifier.domain.keywords import short_code
from baiying_notifier.domain.pacing import PRIORITY
from baiying_notifier.domain.templates import distance, phrase, render
from baiying_shared.db import inbox
from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued, CalloutStoodDown
from baiying_shared.events.envelope import Envelope
from baiying_shared.ids import new_id

CONSUMER = "notifier"
Conn: TypeAlias = "asyncpg.Connection[Any]"


async def _queue(
    conn: Conn, *, p: Any, message: str, kind: str, rank: int, body: str, segments: int
) -> None:
    """Insert the SMS delivery row unless the number opted out (then report it failed)."""
    row = await conn.fetchrow(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, rank, phone, body, segments, state, error_code)"
        " SELECT $1,$2,$3,$4,'sms',$5,$6,$7,$8,$9,$10, CASE WHEN o THEN 'suppressed' ELSE 'pending'"
        " END, CASE WHEN o THEN 21610 END FROM (SELECT EXISTS (SELECT 1 FROM opt_outs"
        " WHERE phone = $8 AND opted_out) AS o) opted"
        " ON CONFLICT (callout_id, message, channel) DO NOTHING RETURNING *",
        new_id(),
        p.callout_id,
        p.incident_id,
        p.volunteer_id,
        message,
        PRIORITY[kind],
        rank,
        p.phone,
        body,
        segments,
    )
    if row is not None and row["state"] == "suppressed":
        await events.delivery_status(conn, row=row, status="failed", error_code=21610)
    elif row is not None:
        # NOTIFY is delivered at commit, in commit order: the sender loads exactly this row
        # (a seq watermark would skip rows whose transactions commit out of order).
        await conn.execute("SELECT pg_notify('notifier_deliveries', $1)", str(row["seq"]))


async def _app(conn: Conn, *, p: Any, message: str, push: dict[str, Any]) -> None:
    """Hand the message to the app channel: a row, a 'sent' status, a push after commit."""
    row = await conn.fetchrow(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, phone, body, state, status) VALUES ($1,$2,$3,$4,'app',$5,0,$6,'','sent','sent')"
        " ON CONFLICT (callout_id, message, channel) DO NOTHING RETURNING *",
        new_id(),
        p.callout_id,
        p.incident_id,
        p.volunteer_id,
        message,
        p.phone,
    )
    if row is None:
        return
    await events.delivery_status(conn, row=row, status="sent")
    note = {"volunteer_id": str(p.volunteer_id), "event": push}
    await conn.execute("SELECT pg_notify('notifier_app', $1)", json.dumps(note, ensure_ascii=False))


def alert_view(p: CalloutIssued, code: str) -> dict[str, Any]:
    """What the app may show before acceptance: no address."""
    return {
        "callout_id": str(p.callout_id),
        "incident_id": str(p.incident_id),
        "kind": p.kind,
        "title": p.title,
        "category": p.category,
        "area": p.area,
        "district": p.district,
        "distance_m": p.distance_m,
        "advice": p.advice,
        "code": code,
    }


async def on_issued(pool: asyncpg.Pool[Any], env: Envelope[Any]) -> None:
    """A first alert (call-out or advisory)."""
    p: CalloutIssued = env.payload
    code = short_code(p.callout_id.hex)
    async with pool.acquire() as conn, conn.transaction():
        if not await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
            return
        view = alert_view(p, code)
        await conn.execute(
            "INSERT INTO callouts (callout_id, incident_id, volunteer_id, phone, kind, code,"
            " language, channels, alert) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            " ON CONFLICT (callout_id) DO NOTHING",
            p.callout_id,
            p.incident_id,
            p.volunteer_id,
            p.phone,
            p.kind,
            code,
            p.language,
            [str(c) for c in p.channels],
            view,
        )
        if "sms" in p.channels:
            kind = "alert" if p.kind == "callout" else "advisory"
            r = render(
                kind,
                p.language,
                title=p.title,
                category=p.category,
                area=p.area,
                distance=distance(p.language, p.distance_m),
                advice=p.advice or "",
                code=code,
            )
            await _queue(
                conn, p=p, message="alert", kind=kind, rank=p.rank, body=r.text, segments=r.segments
            )
        if "app" in p.channels:
            await _app(conn, p=p, message="alert", push={"type": "alert", **view, "state": "live"})


async def on_confirmed(pool: asyncpg.Pool[Any], env: Envelope[Any]) -> None:
    """The volunteer accepted: now, and only now, the address and contact go out."""
    p: CalloutConfirmed = env.payload
    detail = {"address": p.address, "contact": p.contact, "lat": p.lat, "lon": p.lon}
    async with pool.acquire() as conn, conn.transaction():
        if not await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
            return
        code = await conn.fetchval(
            "UPDATE callouts SET confirmed = $2, state = 'confirmed' WHERE callout_id = $1"
            " RETURNING code",
            p.callout_id,
            detail,
        ) or short_code(p.callout_id.hex)
        if "sms" in p.channels:
            r = render(
                "confirmation",
                p.language,
                title=p.title,
                address=p.address,
                contact=p.contact,
                code=code,
            )
            await _queue(
                conn,
                p=p,
                message="confirmation",
                kind="confirmation",
                rank=0,
                body=r.text,
                segments=r.segments,
            )
        if "app" in p.channels:
            push = {"type": "confirmed", "callout_id": str(p.callout_id), **detail}
            await _app(conn, p=p, message="confirmation", push=push)


async def on_stood_down(pool: asyncpg.Pool[Any], env: Envelope[Any]) -> None:
    """Stand down. An alert still waiting in our queue is cancelled instead: never sent."""
    p: CalloutStoodDown = env.payload
    async with pool.acquire() as conn, conn.transaction():
        if not await inbox.claim(conn, event_id=env.event_id, consumer=CONSUMER):
            return
        code = await conn.fetchval(
            "UPDATE callouts SET state = 'stood_down' WHERE callout_id = $1 RETURNING code",
            p.callout_id,
        ) or short_code(p.callout_id.hex)
        await conn.execute(
            "UPDATE deliveries SET state = 'cancelled', updated_at = now() WHERE callout_id = $1"
            " AND channel = 'sms' AND message = 'alert' AND state = 'pending'",
            p.callout_id,
        )
        # Only someone whose alert (may have) left hears the stand-down.
        went = await conn.fetchval(
            "SELECT true FROM deliveries WHERE callout_id = $1 AND channel = 'sms'"
            " AND message = 'alert' AND state IN ('claimed', 'submitted', 'unknown')",
            p.callout_id,
        )
        if "sms" in p.channels and went:
            r = render(
                "stand_down",
                p.language,
                title=p.title,
                reason=phrase(p.language, p.reason),
                code=code,
            )
            await _queue(
                conn,
                p=p,
                message="stand_down",
                kind="stand_down",
                rank=0,
                body=r.text,
                segments=r.segments,
            )
        if "app" in p.channels:
            push = {"type": "stood_down", "callout_id": str(p.callout_id), "reason": p.reason}
            await _app(conn, p=p, message="stand_down", push=push)
