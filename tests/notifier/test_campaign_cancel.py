"""A cancelled campaign on the real broker, database and sandbox: what is not yet with the
carrier is recalled, a message of it arriving after the cancel is never sent, a redelivered
cancel changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from baiying_notifier.config import NotifierSettings
from baiying_shared.events import campaigns
from tests.notifier.harness import System, system
from tests.notifier.test_campaign_kit import publish, volunteer_message
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def _phones(n: int) -> list[str]:
    return [f"+86136009{i:05d}" for i in range(n)]


async def _states(s: System, campaign_id: uuid.UUID) -> dict[str, int]:
    rows = await s.pool.fetch(
        "SELECT state, count(*) FROM deliveries WHERE message = 'campaign' AND incident_id = $1"
        " GROUP BY state", campaign_id)  # fmt: skip
    return dict(rows)  # type: ignore[arg-type]


async def test_a_cancel_recalls_what_the_carrier_has_not_got(notifier_settings: Factory) -> None:
    # A slow carrier (2 segments/s per sender): most of the run is still queued when cancelled.
    async with system(notifier_settings, sender_mps=2.0, pacing_tolerance_s=0.0) as s:
        run, campaign, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        crowd = _phones(40)
        await publish(s, *(volunteer_message(run_id=run, campaign_id=campaign, phone=p)
                           for p in crowd))  # fmt: skip
        bystander = volunteer_message(
            run_id=uuid.uuid4(), campaign_id=other, phone="+8613600990999"
        )
        await publish(s, bystander)

        async def some_sent() -> bool:
            return bool([p for p in crowd if s.sandbox.received(p)])

        await eventually(some_sent, timeout=30, what="the first campaign SMS sent")
        cancel = campaigns.CampaignCancelled(campaign_id=campaign, cancelled_at=datetime.now(UTC))
        await publish(s, cancel, copies=2)  # a redelivered copy too

        async def recalled() -> dict[str, int] | None:
            st = await _states(s, campaign)
            return st if not st.get("pending") and not st.get("claimed") else None

        states = await eventually(recalled, timeout=30, what="nothing of it left to send")
        sent = [p for p in crowd if s.sandbox.received(p)]
        assert 0 < len(sent) < len(crowd), states
        assert states.get("cancelled", 0) == len(crowd) - len(sent), "the rest recalled"
        recorded = await s.pool.fetchval(
            "SELECT recalled FROM campaign_cancels WHERE campaign_id = $1", campaign
        )
        assert recorded == states["cancelled"], "counted once, the redelivery added nothing"

        # A message of the campaign on another partition, arriving after the cancel.
        late = volunteer_message(run_id=run, campaign_id=campaign, phone="+8613600991000")
        await publish(s, late)

        async def queued_cancelled() -> bool:
            return (await _states(s, campaign)).get("cancelled", 0) == states["cancelled"] + 1

        await eventually(queued_cancelled, timeout=30, what="the late message queued cancelled")
        # Another campaign is not touched, and goes next: the recalled rows still in the
        # sender's queue give their carrier slots back (38 × 0.5 s otherwise).
        await s.wait_received([bystander.phone], limit_s=6.0)
        assert not s.sandbox.received(late.phone), "never sent"
        assert [p for p in crowd if s.sandbox.received(p)] == sent, "nothing more went"
