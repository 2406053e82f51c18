"""Topics of 以案说防 campaigns.

prevention.campaigns.v1 (dispatcher → notifier): key = message id for a volunteer's
message, run id for a residents' request, so a re-issued message lands on the same
partition as the first and the notifier's dedupe by message id sees both in order; campaign
id for a cancel (the notifier remembers it, for the messages on other partitions).

notify.campaign_reach.v1 (notifier → dispatcher): key = campaign id, so one campaign's
reach arrives in order at one consumer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from baiying_shared.events.common import DistrictCode
from baiying_shared.events.envelope import Payload, event

TOPIC = "prevention.campaigns.v1"
REACH_TOPIC = "notify.campaign_reach.v1"

Language = Literal["zh", "en"]
Audience = Literal["volunteer", "resident"]
ReachStatus = Literal["sent", "delivered", "failed", "acknowledged", "opened"]

# uuid5 namespace for message ids: uuid5(NS, f"{run_id}:{recipient_id}") makes a re-run of
# the same run issue the same ids, so the notifier sends each message once.
MESSAGE_NS = uuid.UUID("6f1c3f0e-5b7a-4d0c-9a51-0d4c2b7e9a14")


def message_id(run_id: uuid.UUID, recipient_id: uuid.UUID) -> uuid.UUID:
    """The idempotent id of one recipient's message in one run."""
    return uuid.uuid5(MESSAGE_NS, f"{run_id}:{recipient_id}")


@event("campaign.message_issued", 1)
class CampaignMessageIssued(Payload):
    """One volunteer's campaign SMS; advice is already in the recipient's language."""

    message_id: uuid.UUID
    campaign_id: uuid.UUID
    run_id: uuid.UUID
    case_id: uuid.UUID | None
    volunteer_id: uuid.UUID
    phone: str
    language: Language
    district: DistrictCode
    team_type: str
    title: str
    advice: str
    not_after: datetime  # do not send after this: quiet hours start or campaign expiry


@event("campaign.residents_requested", 1)
class CampaignResidentsRequested(Payload):
    """Fan a run out to the notifier's own resident subscribers of these districts."""

    campaign_id: uuid.UUID
    run_id: uuid.UUID
    case_id: uuid.UUID | None
    districts: tuple[DistrictCode, ...]
    title_zh: str
    advice_zh: str
    title_en: str
    advice_en: str
    not_after: datetime


@event("campaign.cancelled", 1)
class CampaignCancelled(Payload):
    """A supervisor cancelled the campaign: SMS of its runs not yet handed to the carrier are
    recalled, and any of its messages arriving later (other partitions) are never queued."""

    campaign_id: uuid.UUID
    cancelled_at: datetime


@event("campaign.reach_changed", 1)
class CampaignReachChanged(Payload):
    """First time one message reaches a status (idempotent downstream by message+status)."""

    campaign_id: uuid.UUID
    run_id: uuid.UUID
    message_id: uuid.UUID
    audience: Audience
    district: DistrictCode
    team_type: str | None
    status: ReachStatus
    error_code: int | None
    at: datetime

