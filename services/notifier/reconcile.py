"""Settle messages left `claimed` with no provider id: a crash or timeout between claim and answer.

Only rows claimed longer ago than the lease are looked at; the lease exceeds the request
timeout, so no request of ours for them can still be travelling. The provider is then
asked what it holds for that number since the row was created; the body carries the
call-out's reference code, so a match is that very message. Found: record it, never
resend. Not found: the provider never took it, so it goes back to pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import asyncpg

from baiying_notifier import events
from baiying_notifier.gateway import GatewayError, SentMessage, SmsGateway
from baiying_notifier.sender import Sender
from baiying_notifier.store import Queued
from baiying_shared.logging import get_logger

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
    if await events.first_time(conn, f"status:{msg.sid}:queued"):
        await events.delivery_status(conn, row=row, status="queued", sid=msg.sid)


async def reconcile_forever(
    *,
    pool: asyncpg.Pool[Any],
    gateway: SmsGateway,
    sender: Sender,
    lease_s: float,
    interval_s: float,
) -> None:
    """Run reconciliation every `interval_s` seconds until cancelled."""
    while True:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            while (
                sum(
                    (
                        await reconcile_once(
                            pool=pool, gateway=gateway, sender=sender, lease_s=lease_s
                        )
                    ).values()
                )
                >= 200
            ):
                pass
        await asyncio.sleep(interval_s)
