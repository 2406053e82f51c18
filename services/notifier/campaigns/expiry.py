"""`not_after`: a campaign SMS still waiting when quiet hours start (or the campaign expires)
is cancelled, never sent late. The sender's claim only takes pending rows, so a cancelled
row is skipped even if it is already in a sender's heap.

Rows are cancelled EARLY_S before their not_after, passes run every INTERVAL_S (< EARLY_S):
a pass late by up to the difference still cancels in time, and a message claimed just
before is handed to the carrier at once (the claim is made right before the request)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from baiying_notifier.campaigns.reach import MESSAGE, SCRUBBED, TOKEN_IN_BODY
from baiying_shared.logging import get_logger

log = get_logger(__name__)
EARLY_S = 1.0
INTERVAL_S = 0.5

# Rows locked in id order, as the sender's claim and a stand-down's cancel lock them.
_CANCEL = f"""
UPDATE deliveries SET state = 'cancelled', updated_at = now(),
    body = regexp_replace(body, '{TOKEN_IN_BODY}', '{SCRUBBED}') WHERE id IN (
    SELECT d.id FROM campaign_messages m JOIN deliveries d ON d.callout_id = m.message_id
    WHERE m.not_after <= now() + make_interval(secs => $1)
      AND d.message = '{MESSAGE}' AND d.state = 'pending'
    ORDER BY d.id FOR UPDATE OF d SKIP LOCKED)
"""


async def cancel_expired(pool: asyncpg.Pool[Any]) -> int:
    """Cancel the pending campaign SMS past their not_after; how many."""
    status = await pool.execute(_CANCEL, EARLY_S)
    return int(status.split()[-1])


async def expire_forever(pool: asyncpg.Pool[Any], *, interval_s: float = INTERVAL_S) -> None:
    """A pass every `interval_s`, for as long as the notifier runs."""
    while True:
        try:
            if n := await cancel_expired(pool):
                log.info("campaign messages expired", count=n)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("expiring campaign messages failed", error=str(exc))
        await asyncio.sleep(interval_s)
