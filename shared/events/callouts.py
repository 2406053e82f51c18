"""Topic dispatch.callouts.v1 — key = volunteer id.

Keying by volunteer spreads a large call over every partition while keeping each
person's alert, confirmation and stand-down in order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from baiying_shared.events.common import Channel, DistrictCode
from baiying_shared.events.envelope import Payload, event

TOPIC = "dispatch.callouts.v1"
# An advisory's events (to thousands at once) travel apart, so a call-out never waits behind
# them; one incident's events all take one topic, so each person's stay in order.
BULK_TOPIC = "dispatch.callouts.bulk.v1"

Language = Literal["zh", "en"]
IncidentKind = Literal["callout", "advisory"]


def topic_for(kind: str) -> str:
    """The topic of an incident's call-out events: bulk for an advisory."""
    return BULK_TOPIC if kind == "advisory" else TOPIC


class _Addressed(Payload):
    callout_id: uuid.UUID
    incident_id: uuid.UUID
    volunteer_id: uuid.UUID
    phone: str
    channels: tuple[Channel, ...]
    language: Language = "zh"


@event("callout.issued", 1)
class CalloutIssued(_Addressed):
    """First alert: what, roughly where and how far — never the exact address."""

    kind: IncidentKind
    title: str
    category: str
    area: str
    district: DistrictCode
    distance_m: int
    rank: int
    round: int
    advice: str | None = None  # 以案说防 text for advisories
    expires_at: datetime | None = None
    # Added after v1 shipped, with a default so older events still parse: the desk's
    # 情况说明 in full (the SMS carries a short form, the app the whole text).
    description: str = ""


@event("callout.confirmed", 1)
class CalloutConfirmed(_Addressed):
    """Sent only to those who accepted: the exact place and whom to contact."""

    title: str
    address: str
    lat: float
    lon: float
    contact: str  # whom to call back: the district desk's number
    description: str = ""  # added after v1 shipped; default keeps old events parsing


@event("callout.stood_down", 1)
class CalloutStoodDown(_Addressed):
    # "held": the volunteer accepted while committed to another live incident, which holds
    # them (one commitment at a time); `held_by` names it. Added after v1 shipped, with a
    # default, so older events still parse.
    reason: Literal["staffed", "cancelled", "closed", "expired", "held"]
    title: str
    held_by: str = ""
