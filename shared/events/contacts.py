"""Topic notify.contacts.v1 — key = phone. Opt-outs, opt-ins and numbers that cannot receive."""

from __future__ import annotations

import uuid
from datetime import datetime

from baiying_shared.events.envelope import Payload, event

TOPIC = "notify.contacts.v1"


@event("contact.sms_opt_changed", 1)
class SmsOptChanged(Payload):
    """A STOP/退订 (opted_out=True) or START (False) reply from this phone."""

    phone: str
    volunteer_id: uuid.UUID | None = None
    opted_out: bool
    keyword: str
    at: datetime


@event("contact.flagged", 1)
class ContactFlagged(Payload):
    """The gateway refused the number permanently (e.g. 21211 invalid, 21610 unsubscribed)."""

    phone: str
    volunteer_id: uuid.UUID | None = None
    error_code: int
    reason: str
    at: datetime
