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

# Rank of each status: a late "sent" must never overwrite "delivered".
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "sent": 1,
    "delivered": 2,
    "undelivered": 3,
    "failed": 3,
}


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
