"""Messages stuck in a sender's carrier queue: sent again through another sender, never twice.

Two paths, chosen by the gateway's capabilities (`path`). Validity (Twilio: it cancels only
scheduled messages, 30409 for a queued one): every SMS carries a ValidityPeriod of
`stuck_after_s`, the carrier fails one still queued past it (`failed`, 30036: never sent),
and that status — by callback or the status sweep — puts the row back to pending for another
sender, once (store.reroute_expired; a second expiry is a failure the dispatcher hears of).
Cancel (a provider that withdraws queued messages, or one without validity): a row still
`queued` at the carrier `stuck_after_s` after we handed it over (the carrier queue is kept
to about a second, so this is not an ordinary wait) is cancelled (Update Status=canceled)
and then fetched. Only if the provider says `canceled` — final: it will never send it — does
the row go back to pending, with the old sender to avoid and the old SID kept in
`cancelled_sids`. A cancel that loses the race to `sending` (or is refused, or times out) is
never followed by a resend: what the fetch shows is recorded as a callback would be, and the
row is looked at again next pass only while it is still `queued`.
"""

from __future__ import annotations

import math
from typing import Any

import asyncpg

from baiying_notifier import seen, store
from baiying_notifier.gateway import Capabilities, GatewayError, SentMessage, SmsGateway
from baiying_notifier.store import Queued
from baiying_shared.events.deliveries import STATUS_RANK
from baiying_shared.logging import get_logger

log = get_logger(__name__)
CANCELED = "canceled"
MAX_VALIDITY_S = 36000  # Twilio's largest ValidityPeriod (seconds)

_STUCK = """
SELECT * FROM deliveries
WHERE state = 'submitted' AND channel = 'sms' AND provider_sid IS NOT NULL AND status = 'queued'
  AND message <> 'signin'  -- its body (the code) is gone once handed over; it expires anyway
  AND claimed_at < now() - make_interval(secs => $1)
ORDER BY claimed_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""


def path(caps: Capabilities, *, validity: bool) -> str | None:
    """How a stuck message leaves its route: "validity" (the carrier fails it past its
    ValidityPeriod and the callback re-routes it: Twilio's way, as Twilio cancels only
    scheduled messages), "cancel" (we cancel it: a provider that withdraws queued ones, or
    one without validity), or None (it waits for its route)."""
    if validity and caps.supports_validity and caps.supports_status_callback:
        return "validity"
    if caps.supports_cancel and caps.supports_fetch:
        return "cancel"
    return None


def validity_s(caps: Capabilities, *, validity: bool, after_s: float) -> int | None:
    """The ValidityPeriod to send with (whole seconds, at least 1), if that is the path."""
    if not after_s or path(caps, validity=validity) != "validity":
        return None
    return min(max(1, math.ceil(after_s)), MAX_VALIDITY_S)


async def _ask(gateway: SmsGateway, sid: str) -> SentMessage | None:
    """Cancel, then read back what the provider holds (None: it could not say)."""
    try:
        await gateway.cancel(sid)
    except GatewayError as exc:  # refused or lost the race: the fetch tells which
        log.info("cancel refused", sid=sid, code=exc.code, error=exc.message)
    try:
        return await gateway.fetch(sid)
    except GatewayError:
        return None


async def unstick_once(
    *,
    pool: asyncpg.Pool[Any],
    gateway: SmsGateway,
    after_s: float,
    validity: bool = False,
    limit: int = 50,
) -> tuple[dict[str, int], list[Queued]]:
    """One pass: counts by outcome, and the rows now pending again (push them after this)."""
    outcome = {"rerouted": 0, "left": 0, "unknown": 0}
    again: list[Queued] = []
    if not after_s or path(gateway.capabilities, validity=validity) != "cancel":
        return outcome, again
    async with pool.acquire() as conn, conn.transaction():
        for row in await conn.fetch(_STUCK, after_s, limit):
            msg = await _ask(gateway, row["provider_sid"])
            if msg is None:
                outcome["unknown"] += 1  # ask again next pass; never resend blind
            elif msg.status == CANCELED:
                await seen.mark_seen(conn, [f"status:{msg.sid}:{CANCELED}"])
                moved = await store.reroute(conn, row_id=row["id"], sid=msg.sid, again=True)
                if moved is not None:
                    again.append(Queued(dict(moved), moved["attempts"]))
                    outcome["rerouted"] += 1
            else:  # it left the queue after all: record that, and leave it be
                if msg.status in STATUS_RANK:
                    await store.record_status(
                        conn, row=row, sid=msg.sid, status=msg.status, code=msg.error_code
                    )
                outcome["left"] += 1
    if any(outcome.values()):
        log.info("stuck messages", **outcome)
    return outcome, again
