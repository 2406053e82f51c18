"""Topic notify.replies.v1 — key = call-out id. A volunteer's answer, by SMS or app."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from baiying_shared.events.common import Channel
from baiying_shared.events.envelope import Payload, event

TOPIC = "notify.replies.v1"

ReplyAction = Literal["accept", "decline", "arrived"]


@event("volunteer.replied", 1)
class VolunteerReplied(Payload):
    callout_id: uuid.UUID
    incident_id: uuid.UUID
    volunteer_id: uuid.UUID
    action: ReplyAction
    channel: Channel
    text: str | None = None
    received_at: datetime
