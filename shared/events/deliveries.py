"""Topic notify.deliveries.v1 — key = call-out id. Delivery progress of every message."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from baiying_shared.events.common import Channel
from baiying_shared.events.envelope import Payload, event

TOPIC = "notify.deliveries.v1"

DeliveryStatus = Literal["queued", "sent", "delivered", "failed", "undelivered"]
MessageKind = Literal["alert", "confirmation", "stand_down"]

# The one home of delivery-status order and finality: the notifier (store, webhooks, status
# sweep) and the dispatcher's domain read these. Rank: a late "sent" never overwrites "delivered".
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "sent": 1,
    "delivered": 2,
    "undelivered": 3,
    "failed": 3,
}
# Statuses after which the carrier reports nothing more. Notifier migration 0002's partial index
# spells these out (a migration cannot import); tests/shared/test_delivery_status.py keeps it so.
FINAL_STATUSES: tuple[DeliveryStatus, ...] = ("delivered", "undelivered", "failed")
FAILED_STATUSES: frozenset[str] = frozenset({"undelivered", "failed"})


def is_ahead(status: str, current: str | None) -> bool:
    """True if `status` moves a delivery forward from `current` (None: nothing recorded yet)."""
    return STATUS_RANK.get(status, -1) > STATUS_RANK.get(current or "", -1)


def is_final(status: str | None) -> bool:
    """True if the carrier will report nothing after `status`."""
    return status in FINAL_STATUSES


@event("delivery.status", 1)
class DeliveryStatusChanged(Payload):
    callout_id: uuid.UUID
    incident_id: uuid.UUID
    volunteer_id: uuid.UUID
    channel: Channel
    message: MessageKind
    status: DeliveryStatus
    error_code: int | None = None
    provider_sid: str | None = None
    at: datetime
