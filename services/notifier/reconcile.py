"""Settle messages left `claimed` with no provider id: a crash or timeout between claim and answer.

Only rows claimed longer ago than the lease are looked at; the lease exceeds the request
timeout, so no request of ours for them can still be travelling. The provider is then
asked what it holds for that number since the row was created; the body carries the
call-out's reference code, so a match is that very message. Found: record it, never
resend. Not found: the provider never took it, so it goes back to pending.

The status sweep closes the other gap: Twilio does not retry status callbacks, so a message
whose "delivered"/"failed" callback was lost (we were down) would keep its last status for
ever and the dispatcher would never learn the outcome. Submitted messages with no final
status after `status_sweep_after_s` are fetched by SID and what the provider says is applied
exactly as a callback would be (store.record_status). The sweep only reads; it never sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import asyncpg

from baiying_notifier import events, seen, store, stuck
from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import GatewayError, SentMessage, SmsGateway
from baiying_notifier.sender import Sender
from baiying_notifier.store import Queued
from baiying_shared.events.deliveries import FINAL_STATUSES, STATUS_RANK
from baiying_shared.logging import get_logger

# A literal list, not a parameter: the planner matches it against the partial index (0002).
_FINAL_SQL = ", ".join(f"'{s}'" for s in FINAL_STATUSES)
log = get_logger(__name__)
SKEW = timedelta(minutes=1)  # tolerate clock difference between us and the provider


async def reconcile_once(
    *,
    pool: asyncpg.Pool[Any],
    gateway: SmsGateway,
    sender: Sender,
    lease_s: float,
    limit: int = 200,
) -> dict[str, int]:
    """Settle one batch of stale claims; return counts by outcome."""
    outcome = {"found": 0, "resend": 0, "unknown": 0}
    requeue: list[Queued] = []
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM deliveries WHERE state = 'claimed' AND provider_sid IS NULL"
            " AND claimed_at < now() - make_interval(secs => $1)"
            " ORDER BY claimed_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            lease_s,
            limit,
        )
        if not rows:
            return outcome
        if not gateway.capabilities.supports_lookup:  # cannot know: never risk a second SMS
            await conn.execute(
                "UPDATE deliveries SET state = 'unknown', updated_at = now()"
                " WHERE id = ANY($1::uuid[])",
                [r["id"] for r in rows],
            )
            outcome["unknown"] = len(rows)
            return outcome
        gate = asyncio.Semaphore(8)

        async def look(row: Any) -> SentMessage | GatewayError | None:
            async with gate:
                try:
                    found = await gateway.recent_to(to=row["phone"], since=row["created_at"] - SKEW)
                except GatewayError as exc:
                    return exc
                return next((m for m in found if m.body == row["body"]), None)

        for row, match in zip(rows, await asyncio.gather(*(look(r) for r in rows)), strict=True):
            if isinstance(match, GatewayError):
                continue  # ask again next round
            if match is None:
                await conn.execute(
                    "UPDATE deliveries SET state = 'pending', updated_at = now() WHERE id = $1",
                    row["id"],
                )
                requeue.append(Queued(dict(row), row["attempts"]))
                outcome["resend"] += 1
            else:
                await _record_found(conn, row=row, msg=match)
                outcome["found"] += 1
    for item in requeue:  # after commit: the rows are pending again
        sender.push(item)
    if any(outcome.values()):
        log.info("reconciled stale claims", **outcome)
    return outcome


async def _record_found(conn: asyncpg.Connection[Any], *, row: Any, msg: SentMessage) -> None:
    await conn.execute(
        "UPDATE deliveries SET state = 'submitted', provider_sid = $2, status = 'queued',"
        " updated_at = now() WHERE id = $1",
        row["id"],
        msg.sid,
    )
    if await seen.first_time(conn, f"status:{msg.sid}:queued"):
        await events.delivery_status(conn, row=row, status="queued", sid=msg.sid)


async def sweep_statuses(
    *,
    pool: asyncpg.Pool[Any],
    gateway: SmsGateway,
    after_s: float,
    max_age_s: float,
    limit: int = 200,
) -> dict[str, int]:
    """Fetch one batch of submitted SMS that never reported a final status; apply the news."""
    outcome = {"updated": 0, "unchanged": 0, "error": 0}
    if not after_s or not gateway.capabilities.supports_fetch:
        return outcome
    rows = await _due_for_sweep(pool, after_s=after_s, max_age_s=max_age_s, limit=limit)
    gate = asyncio.Semaphore(8)

    async def look(row: Any) -> SentMessage | GatewayError:
        async with gate:
            try:
                return await gateway.fetch(row["provider_sid"])
            except GatewayError as exc:
                return exc  # ask again after another `after_s`

    for row, msg in zip(rows, await asyncio.gather(*(look(r) for r in rows)), strict=True):
        if isinstance(msg, GatewayError):
            outcome["error"] += 1
            continue
        news = False
        if msg.status in STATUS_RANK:  # accepted/sending/scheduled: nothing to report yet
            async with pool.acquire() as conn, conn.transaction():
                news = await store.record_status(
                    conn, row=row, sid=row["provider_sid"], status=msg.status, code=msg.error_code
                )
        outcome["updated" if news else "unchanged"] += 1
    if outcome["updated"] or outcome["error"]:
        log.info("swept delivery statuses", **outcome)
    return outcome


async def _due_for_sweep(
    pool: asyncpg.Pool[Any], *, after_s: float, max_age_s: float, limit: int
) -> list[Any]:
    """Mark and return the rows to look at: least recently looked at first, skipping rows
    another instance is marking. Marking first spaces the looks `after_s` apart, so rows the
    carrier never settles cannot crowd out newer ones; past `max_age_s` we stop asking."""
    rows: list[Any] = await pool.fetch(
        "UPDATE deliveries d SET status_checked_at = now() FROM (SELECT id FROM deliveries"
        " WHERE state = 'submitted' AND channel = 'sms' AND provider_sid IS NOT NULL"
        f" AND (status IS NULL OR status NOT IN ({_FINAL_SQL}))"  # as the partial index says
        " AND coalesce(status_checked_at, claimed_at, created_at)"
        " < now() - make_interval(secs => $1)"
        " AND coalesce(claimed_at, created_at) > now() - make_interval(secs => $2)"
        " ORDER BY coalesce(status_checked_at, claimed_at, created_at) LIMIT $3"
        " FOR UPDATE SKIP LOCKED) AS due WHERE d.id = due.id RETURNING d.*",
        after_s,
        max_age_s,
        limit,
    )
    return rows


async def reconcile_forever(
    *,
    pool: asyncpg.Pool[Any],
    gateway: SmsGateway,
    sender: Sender,
    settings: NotifierSettings,
) -> None:
    """Settle stale claims and sweep statuses every `reconcile_interval_s` until cancelled."""
    lost = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)  # try again next pass
    while True:
        with contextlib.suppress(*lost):
            limit = 200
            while True:  # claims left open can be many after a crash: drain them
                done = await reconcile_once(
                    pool=pool,
                    gateway=gateway,
                    sender=sender,
                    lease_s=settings.claim_lease_s,
                    limit=limit,
                )
                if sum(done.values()) < limit:
                    break
        with contextlib.suppress(*lost):
            _, again = await stuck.unstick_once(
                pool=pool,
                gateway=gateway,
                after_s=settings.stuck_after_s,
                validity=settings.sms_validity,
            )
            for item in again:  # after commit: the rows are pending again
                sender.push(item)
        with contextlib.suppress(*lost):
            # One batch per pass: the sweep is a safety net, not a polling loop.
            await sweep_statuses(
                pool=pool,
                gateway=gateway,
                after_s=settings.status_sweep_after_s,
                max_age_s=settings.status_sweep_max_age_s,
                limit=settings.status_sweep_batch,
            )
        await asyncio.sleep(settings.reconcile_interval_s)
