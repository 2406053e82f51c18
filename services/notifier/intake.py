"""Consume dispatch.callouts.v1 a partition's poll at a time: one transaction, rows once.

`on_batch` claims the poll's event ids in one statement (a redelivered copy claims
nothing), then applies the fresh events in offset order, one run of consecutive events
of the same type at a time, so a stand-down after its alert in the same poll still finds
the alert pending and cancels it. The row inserts are the claims against a second SMS
(see queueing.py).

After the commit the poll's new pending SMS rows go straight to this process's sender
(`hand_to`), skipping the NOTIFY -> load -> heap round trip on the raise-to-SMS path; the
NOTIFY still goes at commit, for other instances and as the fallback, and a row heard of
twice is queued once (Sender.push) and claimed once (the claim is the guard, not the heap).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import asyncpg

from baiying_notifier import queueing
from baiying_notifier.domain.keywords import short_code
from baiying_notifier.queueing import App, Sms
from baiying_notifier.store import Queued
from baiying_shared.db import inbox
from baiying_shared.db.pool import own_if_free
from baiying_shared.deps import PgConn
from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued, CalloutStoodDown
from baiying_shared.events.envelope import Envelope
from baiying_shared.kafka.consumer import Message
from baiying_shared.sms.templates import category_label, distance, phrase, render

CONSUMER = "notifier"
Conn: TypeAlias = PgConn
Run = list[Envelope[Any]]
Row = dict[str, Any]
Push = Callable[[Queued], None]
# Per pool (one runtime, one schema): the in-process senders intake hands committed rows to.
_LOCAL: dict[int, list[Push]] = {}
# Per shared pool: the small pool of the call-out lane's own (see own_pool).
_OWN: dict[int, asyncpg.Pool[Any]] = {}


async def on_batch(pool: asyncpg.Pool[Any], messages: list[Message]) -> None:
    """One partition's poll in one transaction; new pending rows announced at commit."""
    await _apply(pool, pool, messages)


async def on_urgent_batch(pool: asyncpg.Pool[Any], messages: list[Message]) -> None:
    """`on_batch` for the call-out lane: on a connection of its own when one is free."""
    await _apply(pool, _pick(pool), messages)


def own_pool(pool: asyncpg.Pool[Any], own: asyncpg.Pool[Any]) -> Callable[[], None]:
    """Let the call-out lane's intake through `pool` take its connections from `own`;
    returns the undo."""
    _OWN[id(pool)] = own

    def undo() -> None:
        _OWN.pop(id(pool), None)

    return undo


def _pick(pool: asyncpg.Pool[Any]) -> asyncpg.Pool[Any]:
    # During an advisory the shared pool is all status callbacks, submits, bulk intake and
    # claims: a call-out's intake waited up to ~100 ms there for a connection (measured,
    # 3,000 advisory).
    return own_if_free(_OWN.get(id(pool)), pool)


async def _apply(pool: asyncpg.Pool[Any], via: asyncpg.Pool[Any], msgs: list[Message]) -> None:
    """The poll's transaction on a connection of `via`; rows go to `pool`'s senders."""
    envs = [
        m.envelope
        for m in msgs
        if m.envelope is not None and type(m.envelope.payload) in HANDLERS
    ]
    if not envs:
        return
    async with via.acquire() as conn, conn.transaction():
        fresh = await claim_and_record(conn, envs)
        todo = _first_copies(envs, fresh)
        rows: list[Row] = []
        for kind, run in itertools.groupby(todo, key=lambda e: type(e.payload)):
            rows += await HANDLERS[kind](conn, list(run))
        await queueing.announce(conn, [r["seq"] for r in rows])
    _hand_over(pool, rows)  # only once committed: never a row that may yet roll back


def hand_to(pool: asyncpg.Pool[Any], push: Push) -> Callable[[], None]:
    """Give `push` (a Sender's) every pending SMS row intake commits through `pool`, just
    after its commit; returns the undo."""
    _LOCAL.setdefault(id(pool), []).append(push)
    return lambda: _LOCAL[id(pool)].remove(push)


def _hand_over(pool: asyncpg.Pool[Any], rows: list[Row]) -> None:
    for push in _LOCAL.get(id(pool), []):
        for row in rows:
            push(Queued(row, row["attempts"]))


async def claim_all(conn: Conn, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The inbox claim for many events: the ids seen for the first time."""
    return await inbox.claim_many(conn, event_ids=event_ids, consumer=CONSUMER)


# The inbox claim with the first alerts' callouts rows riding on it (made only for an event
# claimed now): one round trip on the raise-to-SMS path instead of two.
_CLAIM_AND_RECORD = (
    "WITH fresh AS (INSERT INTO processed_events (event_id, consumer)"
    " SELECT e, $2 FROM unnest($1::uuid[]) AS e ORDER BY e"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id),"
    " made AS (INSERT INTO callouts (callout_id, incident_id, volunteer_id, phone, kind, code,"
    " language, channels, alert)"
    " SELECT r.callout_id, r.incident_id, r.volunteer_id, r.phone, r.kind, r.code, r.language,"
    " string_to_array(r.channels, ','), r.alert FROM unnest($3::uuid[], $4::uuid[],"
    " $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    " $12::jsonb[])"
    " AS r(event_id, callout_id, incident_id, volunteer_id, phone, kind, code, language,"
    " channels, alert) WHERE r.event_id IN (SELECT event_id FROM fresh)"
    " ON CONFLICT (callout_id) DO NOTHING)"
    " SELECT event_id FROM fresh"
)


async def claim_and_record(conn: Conn, envs: Run) -> set[uuid.UUID]:
    """`claim_all` for the poll, and the callouts row of each first alert it claims."""
    alerts = [e for e in envs if isinstance(e.payload, CalloutIssued)]
    if not alerts:
        return await claim_all(conn, [e.event_id for e in envs])
    rows = [(e.event_id, *_callout_row(e.payload, *_code_and_view(e.payload))) for e in alerts]
    cols = [list(c) for c in zip(*rows, strict=True)]
    cols[8] = [",".join(c) for c in cols[8]]  # channels, one text each (unnest flattens arrays)
    found = await conn.fetch(_CLAIM_AND_RECORD, sorted({e.event_id for e in envs}), CONSUMER,
                             *cols)
    return {r["event_id"] for r in found}


def _code_and_view(p: CalloutIssued) -> tuple[str, dict[str, Any]]:
    code = short_code(p.callout_id.hex)
    return code, alert_view(p, code)


def _first_copies(envs: Run, fresh: set[uuid.UUID]) -> Run:
    """Each newly claimed event once, in order (a poll may also hold a re-published copy)."""
    todo: Run = []
    for env in envs:
        if env.event_id in fresh:
            fresh.discard(env.event_id)
            todo.append(env)
    return todo


def alert_view(p: CalloutIssued, code: str) -> dict[str, Any]:
    """What the app may show before acceptance: no address."""
    return {
        "callout_id": str(p.callout_id),
        "incident_id": str(p.incident_id),
        "kind": p.kind,
        "title": p.title,
        "category": category_label(p.language, p.category),
        "area": p.area,
        "district": p.district,
        "distance_m": p.distance_m,
        "advice": p.advice,
        "description": p.description,  # in full: the app has room the SMS has not
        "code": code,
    }


def _callout_row(p: CalloutIssued, code: str, view: dict[str, Any]) -> tuple[Any, ...]:
    channels = [str(c) for c in p.channels]
    return (p.callout_id, p.incident_id, p.volunteer_id, p.phone, p.kind, code, p.language,
            channels, view)  # fmt: skip


def _alert_sms(env: Envelope[Any], code: str) -> Sms:
    p: CalloutIssued = env.payload
    kind = "alert" if p.kind == "callout" else "advisory"
    text = render(
        kind,
        p.language,
        title=p.title,
        category=category_label(p.language, p.category),
        area=p.area,
        distance=distance(p.language, p.distance_m),
        advice=p.advice or "",
        description=p.description,
        code=code,
    )
    return Sms(p, "alert", kind, p.rank, text, env.trace_id)


async def on_issued(conn: Conn, envs: Run) -> list[Row]:
    """First alerts (call-outs or advisories): SMS and app messages (the callouts rows were
    made with the claim, `claim_and_record`)."""
    triples = [(e, *_code_and_view(e.payload)) for e in envs]
    rows = await queueing.sms_rows(
        conn, [_alert_sms(e, c) for e, c, _ in triples if "sms" in e.payload.channels]
    )
    await queueing.app(
        conn,
        [
            App(e.payload, "alert", {"type": "alert", **view, "state": "live"}, e.trace_id)
            for e, _, view in triples
            if "app" in e.payload.channels
        ],
    )
    return rows


async def on_confirmed(conn: Conn, envs: Run) -> list[Row]:
    """The volunteer accepted: now, and only now, the address and contact go out."""
    sms: list[Sms] = []
    app: list[App] = []
    for env in envs:  # few per poll (a quorum, not a crowd): one update each
        p: CalloutConfirmed = env.payload
        detail = {"address": p.address, "contact": p.contact, "lat": p.lat, "lon": p.lon,
                  "description": p.description}
        code = await conn.fetchval(
            "UPDATE callouts SET confirmed = $2, state = 'confirmed' WHERE callout_id = $1"
            " RETURNING code",
            p.callout_id,
            detail,
        ) or short_code(p.callout_id.hex)
        if "sms" in p.channels:
            text = render(
                "confirmation",
                p.language,
                title=p.title,
                address=p.address,
                contact=p.contact,
                description=p.description,
                code=code,
            )
            sms.append(Sms(p, "confirmation", "confirmation", 0, text, env.trace_id))
        if "app" in p.channels:
            push = {"type": "confirmed", "callout_id": str(p.callout_id), **detail}
            app.append(App(p, "confirmation", push, env.trace_id))
    rows = await queueing.sms_rows(conn, sms)
    await queueing.app(conn, app)
    return rows


async def on_stood_down(conn: Conn, envs: Run) -> list[Row]:
    """Stand down. An alert still waiting in our queue is cancelled instead: never sent."""
    ids = sorted({e.payload.callout_id for e in envs})
    codes: dict[uuid.UUID, str] = {
        r["callout_id"]: r["code"]
        for r in await conn.fetch(
            "UPDATE callouts SET state = 'stood_down' WHERE callout_id = ANY($1::uuid[])"
            " RETURNING callout_id, code",
            ids,
        )
    }
    # Rows locked in id order, as the sender's claim locks them: the two cannot deadlock.
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', updated_at = now() WHERE id IN ("
        " SELECT id FROM deliveries WHERE callout_id = ANY($1::uuid[]) AND channel = 'sms'"
        " AND message = 'alert' AND state = 'pending' ORDER BY id FOR UPDATE)",
        ids,
    )
    # Only someone whose alert (may have) left hears the stand-down.
    went = {
        r["callout_id"]
        for r in await conn.fetch(
            "SELECT callout_id FROM deliveries WHERE callout_id = ANY($1::uuid[])"
            " AND channel = 'sms' AND message = 'alert'"
            " AND state IN ('claimed', 'submitted', 'unknown')",
            ids,
        )
    }
    sms = [
        _stand_down_sms(e, codes.get(e.payload.callout_id))
        for e in envs
        if "sms" in e.payload.channels and e.payload.callout_id in went
    ]
    rows = await queueing.sms_rows(conn, sms)
    await queueing.app(conn, [_stand_down_app(e) for e in envs if "app" in e.payload.channels])
    return rows


def _stand_down_sms(env: Envelope[Any], code: str | None) -> Sms:
    p: CalloutStoodDown = env.payload
    code = code or short_code(p.callout_id.hex)
    reason = phrase(p.language, p.reason, held_by=p.held_by)  # "held" names the holder
    text = render("stand_down", p.language, title=p.title, reason=reason, code=code)
    return Sms(p, "stand_down", "stand_down", 0, text, env.trace_id)


def _stand_down_app(env: Envelope[Any]) -> App:
    p: CalloutStoodDown = env.payload
    push = {"type": "stood_down", "callout_id": str(p.callout_id), "reason": p.reason}
    return App(p, "stand_down", push, env.trace_id)


HANDLERS: dict[type[Any], Callable[[Conn, Run], Awaitable[list[Row]]]] = {
    CalloutIssued: on_issued,
    CalloutConfirmed: on_confirmed,
    CalloutStoodDown: on_stood_down,
}
