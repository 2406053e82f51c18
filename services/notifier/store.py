"""SQL for delivery rows: load, claim, record the provider's answer and statuses, retry, fail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg

from baiying_notifier import events, optouts, queueing, seen
from baiying_notifier.campaigns import reach
from baiying_notifier.domain.pacing import OPT_OUT_CODES, PERMANENT_CODES, SIGNIN_MESSAGE
from baiying_shared.db import outbox
from baiying_shared.deps import PgPool
from baiying_shared.events import deliveries
from baiying_shared.logging import get_logger

Pool: TypeAlias = PgPool
log = get_logger(__name__)
# failed and never sent: 30036 still queued at the carrier past its ValidityPeriod, 30001 a
# Messaging Service pool overloaded after creation — either way it may go again elsewhere.
EXPIRED = frozenset({30036, 30001})
_COLUMNS = (
    "id, seq, callout_id, incident_id, volunteer_id, channel, message, priority, rank,"
    " phone, body, attempts, created_at, claimed_at, avoid_sender"
)


@dataclass
class Queued:
    """One SMS waiting in memory for its turn; `row` carries the columns events need."""

    row: dict[str, Any]
    attempts: int = 0

    @property
    def id(self) -> uuid.UUID:
        return self.row["id"]  # type: ignore[no-any-return]


async def _pending(pool: Pool, where: str, *args: Any) -> list[Queued]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM deliveries WHERE state = 'pending' {where}",
                            *args)
    return [Queued(dict(r), r["attempts"]) for r in rows]


async def load_pending(pool: Pool, *, after_seq: int, limit: int) -> list[Queued]:
    """Pending SMS rows newer than the watermark, in arrival order."""
    return await _pending(pool, "AND channel = 'sms' AND seq > $1 ORDER BY seq LIMIT $2",
                          after_seq, limit)


async def load_by_seq(pool: Pool, seqs: list[int]) -> list[Queued]:
    """The pending rows a NOTIFY announced."""
    return await _pending(pool, "AND seq = ANY($1::bigint[])", seqs)


async def load_stale(pool: Pool, *, older_than_s: float, limit: int) -> list[Queued]:
    """Pending rows nobody touched for a while (their owner died after a retry or reconcile)."""
    return await _pending(
        pool, "AND channel = 'sms' AND updated_at < now() - make_interval(secs => $1)"
        " ORDER BY priority, rank LIMIT $2", older_than_s, limit,
    )


@dataclass(frozen=True)
class Fence:
    """Claims are made only under this holder's lease, with `margin_s` of it left."""

    holder: uuid.UUID
    margin_s: float


UNFENCED = -1  # claim answer: the row is pending, but that lease is not ours (any more)

_CLAIM = """
WITH v AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS v(id, sender, epoch)),
mine AS (
    SELECT x.id FROM deliveries x JOIN v ON v.id = x.id
    JOIN sender_leases l ON l.sender = v.sender AND l.epoch = v.epoch AND l.holder = $4
        AND l.expires_at > now() + make_interval(secs => $5)
    WHERE x.state = 'pending' ORDER BY x.id FOR UPDATE OF x
),
won AS (
    UPDATE deliveries d SET state = 'claimed', claimed_at = now(), updated_at = now(),
        attempts = d.attempts + 1
    FROM mine WHERE d.id = mine.id RETURNING d.id, d.attempts
)
SELECT id, attempts FROM won
UNION ALL
SELECT x.id, -1 FROM deliveries x JOIN v ON v.id = x.id
WHERE x.state = 'pending' AND x.id NOT IN (SELECT id FROM won)
"""


async def claim(
    pool: Pool, fence: Fence, wanted: list[tuple[uuid.UUID, str, int]]
) -> list[int | None]:
    """pending -> claimed for (id, sender lease, epoch), atomically and only while that lease
    is ours at that epoch. Per id: the attempt number; UNFENCED if the row is still pending
    but the lease is not ours (send it later); None if it is not pending (cancelled, or
    another instance has it)."""
    # Rows locked in id order, as a stand-down's cancel locks them: the two cannot deadlock.
    rows = await pool.fetch(
        _CLAIM,
        [w[0] for w in wanted],
        [w[1] for w in wanted],
        [w[2] for w in wanted],
        fence.holder,
        fence.margin_s,
    )
    got = {r["id"]: r["attempts"] for r in rows}
    return [got.get(i) for i, _, _ in wanted]


async def unclaim(pool: Pool, ids: list[uuid.UUID]) -> None:
    """claimed -> pending for claims we made but did not send (our lease ran out meanwhile)."""
    await pool.execute(
        "UPDATE deliveries SET state = 'pending', attempts = attempts - 1, updated_at = now()"
        " WHERE id = ANY($1::uuid[]) AND state = 'claimed' AND provider_sid IS NULL",
        ids,
    )


async def submitted(pool: Pool, items: list[tuple[Queued, str | None, str, str]]) -> list[None]:
    """Record (item, sender, sid, status) answers and publish 'queued', in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        # The provider's own 'queued' callback is the same news: mark it seen. Keys first,
        # then rows — the status webhook locks in the same order, so the two cannot deadlock.
        await seen.mark_seen(conn, [f"status:{sid}:queued" for _, _, sid, _ in items])
        updated = {
            r["id"]
            for r in await conn.fetch(
                "UPDATE deliveries d SET state = 'submitted', provider_sid = v.sid,"
                " sender = v.sender,"
                # a sign-in code leaves the table once the carrier has it (codes rest hashed)
                f" body = CASE WHEN d.message = '{SIGNIN_MESSAGE}' THEN '' ELSE d.body END,"
                " status = coalesce(d.status, 'queued'), updated_at = now()"
                " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, sid, sender)"
                " WHERE d.id = v.id AND d.state = 'claimed' RETURNING d.id",
                [i.id for i, *_ in items],
                [sid for _, _, sid, _ in items],
                [sender for _, sender, _, _ in items],
            )
        }
        # Rows a callback or the reconciler recorded first publish nothing here.
        fresh = [(i, sid) for i, _, sid, _ in items if i.id in updated]
        fresh = [(i, sid) for i, sid in fresh if not reach.is_campaign(i.row)]  # reach only
        fresh = [(i, sid) for i, sid in fresh if i.row["message"] != SIGNIN_MESSAGE]
        # events.delivery_status_event picks the topic: an advisory's 10,000 "queued" reports go
        # on the bulk one, so replies and call-out statuses never queue behind them.
        await outbox.add_many(
            conn,
            [events.delivery_status_event(i.row, status="queued", sid=sid) for i, sid in fresh],
        )
    return [None] * len(items)


async def retry_later(pool: Pool, *, item: Queued, delay_s: float, code: int | None) -> None:
    """claimed -> pending, due after the backoff (the provider definitely did not take it)."""
    await pool.execute(
        "UPDATE deliveries SET state = 'pending', error_code = $3, updated_at = now(),"
        " next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1 AND state = 'claimed'",
        item.id,
        delay_s,
        code,
    )


async def failed(pool: Pool, *, item: Queued, code: int | None, reason: str) -> None:
    """Permanent failure: report it, flag the number, and treat 21610 as an opt-out."""
    async with pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            "UPDATE deliveries SET state = 'failed', status = 'failed', error_code = $2,"
            " updated_at = now() WHERE id = $1 AND state = 'claimed' RETURNING true",
            item.id,
            code,
        )
        if not done:
            return
        await flag(conn, row=item.row, code=code, reason=reason)


async def apply_callback(
    pool: Pool, *, delivery_id: str | None, sid: str, status: str, code: int | None
) -> bool:
    """A status callback for our row `delivery_id` (else the row with `sid`); True if news."""
    async with pool.acquire() as conn, conn.transaction():
        return await apply_callback_in(
            conn, delivery_id=delivery_id, sid=sid, status=status, code=code
        )


async def apply_callback_in(
    conn: Any, *, delivery_id: str | None, sid: str, status: str, code: int | None
) -> bool:
    """`apply_callback` inside the caller's transaction (the webhook's group commit)."""
    row = await _delivery(conn, delivery_id=delivery_id, sid=sid)
    if row is None:  # not ours, or not recorded yet: do not burn the replay key
        return False
    if sid in (row["cancelled_sids"] or ()):  # a message we cancelled and sent again
        return False
    return await record_status(conn, row=row, sid=sid, status=status, code=code)


async def _delivery(conn: Any, *, delivery_id: str | None, sid: str) -> Any:
    if delivery_id:
        try:
            return await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1::uuid", delivery_id)
        except ValueError:  # not a uuid: not a link we made
            return None
    return await conn.fetchrow("SELECT * FROM deliveries WHERE provider_sid = $1", sid)


async def record_status(
    conn: asyncpg.Connection[Any], *, row: Any, sid: str, status: str, code: int | None
) -> bool:
    """Apply one provider status (a callback's or the sweep's); True if it was news.

    Whoever sees (sid, status) first applies it — a callback after the sweep, or the other
    way round, is a replay. A status not ahead of the row's (callbacks can arrive out of
    order) is marked seen but publishes nothing: statuses only move forward.
    """
    if not await seen.first_time(conn, f"status:{sid}:{status}"):
        return False
    if status == "failed" and code in EXPIRED and await reroute_expired(conn, row=row, sid=sid):
        return False  # the carrier dropped it unsent: it goes again, nobody is told it failed
    # Key first, then the row (as `submitted` does); the lock makes the rank test current.
    current = await conn.fetchval(
        "SELECT status FROM deliveries WHERE id = $1 FOR UPDATE", row["id"]
    )
    ahead = deliveries.is_ahead(status, current)
    # Any status proves the provider took it: settles a claim our crash left open.
    await conn.execute(
        "UPDATE deliveries SET provider_sid = coalesce(provider_sid, $2),"
        " state = CASE WHEN state = 'claimed' THEN 'submitted' ELSE state END,"
        " status = CASE WHEN $4 THEN $3 ELSE status END,"
        " error_code = coalesce($5, error_code), updated_at = now() WHERE id = $1",
        row["id"],
        sid,
        status,
        ahead,
        code,
    )
    if not ahead:
        return False
    if status in ("failed", "undelivered"):
        await flag(conn, row=row, code=code, reason=f"delivery {status}", status=status, sid=sid)
    else:
        await events.delivery_status(conn, row=row, status=status, sid=sid)
    return True


# Back to pending for another sender; the SID joins cancelled_sids, so its late callbacks
# are recognised and ignored (apply_callback). An expiry re-routes a row once (`again`: also
# one re-routed before — a cancel we asked for must be followed by a send).
_REROUTE = """
UPDATE deliveries SET state = 'pending', status = NULL, provider_sid = NULL, claimed_at = NULL,
    avoid_sender = sender, sender = NULL, cancelled_sids = cancelled_sids || $2::text,
    next_attempt_at = now(), updated_at = now()
WHERE id = $1 AND state IN ('submitted', 'claimed') AND coalesce(provider_sid, $2) = $2
  AND ($3 OR cardinality(cancelled_sids) = 0) AND message <> 'signin'
RETURNING *
"""


async def reroute(
    conn: asyncpg.Connection[Any], *, row_id: uuid.UUID, sid: str, again: bool = False
) -> Any:
    """The provider will never send `sid` (cancelled, or expired unsent): pending again,
    avoiding its sender, announced to every instance at commit. The row, or None."""
    moved = await conn.fetchrow(_REROUTE, row_id, sid, again)
    if moved is not None:
        await queueing.announce(conn, [moved["seq"]])
    return moved


async def reroute_expired(conn: asyncpg.Connection[Any], *, row: Any, sid: str) -> bool:
    """A message failed 30036 after its ValidityPeriod ran out in the carrier's queue (or 30001)."""
    if await reroute(conn, row_id=row["id"], sid=sid) is None:
        return False  # re-routed once already (or a sign-in code): this failure stands
    log.info("expired in the carrier queue; re-routed", delivery=str(row["id"]), sid=sid)
    return True


async def flag(
    conn: asyncpg.Connection[Any],
    *,
    row: Any,
    code: int | None,
    reason: str,
    status: str = "failed",
    sid: str | None = None,
) -> None:
    """Failed status, ContactFlagged for a permanent code, opt-out for 21610."""
    await events.delivery_status(conn, row=row, status=status, error_code=code, sid=sid)
    if code not in PERMANENT_CODES:
        return  # e.g. retries exhausted on 20429: the number itself is fine
    vid = row["volunteer_id"]
    await events.contact_flagged(
        conn, phone=row["phone"], volunteer_id=vid, code=code, reason=reason
    )
    if code in OPT_OUT_CODES:
        await optouts.change(
            conn, phone=row["phone"], volunteer_id=vid, opted_out=True, keyword=str(code)
        )
