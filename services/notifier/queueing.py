"""Delivery rows for many messages at once, inside the caller's (intake) transaction.

The row insert is the claim: UNIQUE (callout_id, message, channel) means a redelivered
or re-published event finds its row already there and queues nothing new. NOTIFYs are
delivered at commit, in commit order, so the sender and the app hubs hear only of rows
that exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from baiying_notifier import events
from baiying_notifier.domain.pacing import PRIORITY, PRIORITY_SIGNIN, RANK_SIGNIN, SIGNIN_MESSAGE
from baiying_shared.db import outbox
from baiying_shared.deps import PgConn
from baiying_shared.ids import new_id
from baiying_shared.sms import segments
from baiying_shared.sms.templates import Rendered

Conn: TypeAlias = PgConn
NOTIFY_MAX_BYTES = 7000  # PostgreSQL refuses payloads of 8000 bytes or more
DELIVERIES_CHANNEL = "notifier_deliveries"

_SMS = """
INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message, priority,
                        rank, phone, body, segments, state, error_code)
SELECT v.id, v.callout_id, v.incident_id, v.volunteer_id, 'sms', v.message, v.priority,
       v.rank, v.phone, v.body, v.segments,
       CASE WHEN o.phone IS NULL THEN 'pending' ELSE 'suppressed' END,
       CASE WHEN o.phone IS NOT NULL THEN 21610 END
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::smallint[],
            $7::int[], $8::text[], $9::text[], $10::int[])
     WITH ORDINALITY AS v(id, callout_id, incident_id, volunteer_id, message, priority,
                          rank, phone, body, segments, n)
LEFT JOIN opt_outs o ON o.phone = v.phone AND o.opted_out
ORDER BY v.n
ON CONFLICT (callout_id, message, channel) DO NOTHING
RETURNING *
"""

_APP = """
INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message, priority,
                        phone, body, state, status)
SELECT v.id, v.callout_id, v.incident_id, v.volunteer_id, 'app', v.message, 0, v.phone, '',
       'sent', 'sent'
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
     WITH ORDINALITY AS v(id, callout_id, incident_id, volunteer_id, message, phone, n)
ORDER BY v.n
ON CONFLICT (callout_id, message, channel) DO NOTHING
RETURNING *
"""


@dataclass(frozen=True)
class Sms:
    """One SMS to queue. `p` is the call-out payload (ids and phone); `kind` its pacing class."""

    p: Any
    message: str  # alert | confirmation | stand_down
    kind: str  # alert | advisory | confirmation | stand_down
    rank: int
    text: Rendered
    trace_id: str | None = None  # the consumed event's, carried into the events we publish


@dataclass(frozen=True)
class App:
    """One app message: a row, a 'sent' status and a push after commit."""

    p: Any
    message: str
    push: dict[str, Any]
    trace_id: str | None = None


Item = TypeVar("Item", Sms, App)


def _ids(items: list[Sms] | list[App]) -> list[list[Any]]:
    return [
        [new_id() for _ in items],
        [i.p.callout_id for i in items],
        [i.p.incident_id for i in items],
        [i.p.volunteer_id for i in items],
        [i.message for i in items],
    ]


async def sms(conn: Conn, items: list[Sms]) -> list[int]:
    """Insert SMS rows (suppressed for opted-out numbers); return the new pending rows' seqs."""
    return [r["seq"] for r in await sms_rows(conn, items)]


async def sms_rows(conn: Conn, items: list[Sms]) -> list[dict[str, Any]]:
    """`sms`, returning the new pending rows whole (every deliveries column), in item order."""
    if not items:
        return []
    rows = await conn.fetch(
        _SMS,
        *_ids(items),
        [PRIORITY[i.kind] for i in items],
        [i.rank for i in items],
        [i.p.phone for i in items],
        [i.text.text for i in items],
        [i.text.segments for i in items],
    )
    made = _first_per_row(items)
    suppressed = [
        events.delivery_status_event(
            r, status="failed", error_code=21610, trace_id=made[_key(r)].trace_id
        )
        for r in rows
        if r["state"] == "suppressed"
    ]
    if suppressed:
        await outbox.add_many(conn, suppressed)
    return [dict(r) for r in rows if r["state"] == "pending"]


async def app(conn: Conn, items: list[App]) -> None:
    """Insert app rows; publish 'sent' and push each new one to the volunteer after commit."""
    if not items:
        return
    rows = await conn.fetch(_APP, *_ids(items), [i.p.phone for i in items])
    if not rows:
        return
    made = _first_per_row(items)
    sent = [
        events.delivery_status_event(r, status="sent", trace_id=made[_key(r)].trace_id)
        for r in rows
    ]
    await outbox.add_many(conn, sent)
    notes = [
        json.dumps(
            {"volunteer_id": str(r["volunteer_id"]), "event": made[_key(r)].push},
            ensure_ascii=False,
        )
        for r in rows
    ]
    await conn.executemany("SELECT pg_notify('notifier_app', $1)", [(n,) for n in notes])


_SIGNIN = f"""
INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message, priority,
                        rank, phone, body, segments, state)
VALUES ($1, $2, '00000000-0000-0000-0000-000000000000', $3, 'sms', '{SIGNIN_MESSAGE}',
        {PRIORITY_SIGNIN}, {RANK_SIGNIN}, $4, $5, $6, 'pending')
RETURNING seq
"""


async def signin_code(conn: Conn, *, volunteer_id: Any, phone: str, body: str) -> list[int]:
    """Queue a sign-in code behind every call-out alert and ahead of advisories; its seq.

    It goes through the same paced senders as everything else (so the carrier's rate holds),
    as a row of its own (a fresh id where a call-out's would be, so it is never a duplicate).
    """
    seq = await conn.fetchval(
        _SIGNIN, new_id(), new_id(), volunteer_id, phone, body, segments.count(body).segments
    )
    return [seq]


def _key(row: Any) -> tuple[Any, str]:
    return row["callout_id"], row["message"]


def _first_per_row(items: list[Item]) -> dict[tuple[Any, str], Item]:
    """Item per (callout, message): the first one is the one whose row was inserted."""
    made: dict[tuple[Any, str], Item] = {}
    for i in items:
        made.setdefault((i.p.callout_id, i.message), i)
    return made


async def announce(conn: Conn, seqs: list[int]) -> None:
    """Tell the senders which pending rows to load, in as few NOTIFYs as fit the payload limit."""
    if seqs:
        await conn.executemany(
            f"SELECT pg_notify('{DELIVERIES_CHANNEL}', $1)", [(p,) for p in seq_payloads(seqs)]
        )


def seq_payloads(seqs: list[int], limit: int = NOTIFY_MAX_BYTES) -> Iterator[str]:
    """Comma-separated seqs, each payload under `limit` bytes."""
    chunk: list[str] = []
    size = 0
    for seq in seqs:
        text = str(seq)
        if chunk and size + len(text) + 1 > limit:
            yield ",".join(chunk)
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        yield ",".join(chunk)
