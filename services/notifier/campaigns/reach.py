"""Reach of campaign messages -> CampaignReachChanged, once per (message, status), via the outbox.

Provider statuses of a campaign SMS arrive through the same path as a call-out's (status
callback or sweep -> store.record_status -> events.delivery_status), which hands campaign
rows here instead of publishing DeliveryStatusChanged to the dispatcher.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from baiying_shared.db import outbox
from baiying_shared.deps import PgConn
from baiying_shared.events import campaigns
from baiying_shared.events.envelope import wrap

OutboxRow = tuple[str, str, Any]
MESSAGE = "campaign"  # deliveries.message of a campaign SMS
PRODUCER = "notifier"
# Provider status -> reach status; undelivered is a failure with the carrier's code.
_FROM_PROVIDER = {"sent": "sent", "delivered": "delivered", "failed": "failed",
                  "undelivered": "failed"}  # fmt: skip
# Delivered or undelivered means the carrier sent it, even if its 'sent' callback was lost.
_IMPLIES_SENT = frozenset({"delivered", "undelivered"})
_SETTLED = frozenset({"delivered", "undelivered", "failed"})
# The link token in a stored SMS body, and what it becomes once the body is no longer needed
# (the body is kept only so a crashed send can be recognised or re-routed).
TOKEN_IN_BODY = r"/c/[A-Za-z0-9_-]{22}"
SCRUBBED = "/c/-"

# The message's own columns an event carries, read back with each fresh (message, status).
_MESSAGE_COLUMNS = ("message_id", "campaign_id", "run_id", "audience", "district", "team_type")
_FRESH = f"""
WITH fresh AS (
    INSERT INTO campaign_reach (message_id, status)
    SELECT m, $2 FROM unnest($1::uuid[]) AS m ORDER BY m
    ON CONFLICT DO NOTHING RETURNING message_id)
SELECT {", ".join(f"m.{c}" for c in _MESSAGE_COLUMNS)}
FROM campaign_messages m JOIN fresh USING (message_id)
"""


def is_campaign(row: Any) -> bool:
    return bool(row["message"] == MESSAGE)


async def record(
    conn: PgConn, *, message_ids: list[uuid.UUID], status: str, error_code: int | None = None
) -> int:
    """Publish `status` for the messages reaching it for the first time; how many did."""
    rows = await conn.fetch(_FRESH, message_ids, status)
    if rows:
        at = datetime.now(UTC)
        await outbox.add_many(conn, [_event(r, status, error_code, at) for r in rows])
    return len(rows)


def _event(row: Any, status: str, code: int | None, at: datetime) -> OutboxRow:
    payload = campaigns.CampaignReachChanged.model_validate(
        {**{c: row[c] for c in _MESSAGE_COLUMNS}, "status": status, "error_code": code, "at": at}
    )
    envelope = wrap(payload, producer=PRODUCER)
    return campaigns.REACH_TOPIC, str(row["campaign_id"]), envelope


async def on_provider_status(
    conn: PgConn, *, row: Any, status: str, error_code: int | None
) -> None:
    """A campaign SMS's provider status (its deliveries row) as reach."""
    reach = _FROM_PROVIDER.get(status)
    if reach is None:
        return  # queued: nothing the desk counts
    ids = [row["callout_id"]]  # a campaign row's callout_id is its message id
    if status in _IMPLIES_SENT:
        await record(conn, message_ids=ids, status="sent")
    await record(conn, message_ids=ids, status=reach, error_code=error_code)
    if status in _SETTLED:
        await scrub(conn, delivery_ids=[row["id"]])


async def scrub(conn: PgConn, *, delivery_ids: list[uuid.UUID]) -> None:
    """Drop the link token from settled SMS bodies: at rest it then exists only as its hash."""
    await conn.execute(
        "UPDATE deliveries SET body = regexp_replace(body, $2, $3) WHERE id = ANY($1::uuid[])",
        delivery_ids, TOKEN_IN_BODY, SCRUBBED,
    )  # fmt: skip
