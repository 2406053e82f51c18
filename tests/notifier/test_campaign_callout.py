"""A 5,000-recipient campaign never delays a call-out raised during it: the call-out reaches
the carrier about as soon as the same call-out does with no campaign running."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from baiying_notifier.config import NotifierSettings
from baiying_sandbox.config import SandboxSettings
from tests.notifier.harness import System, issued, system
from tests.notifier.test_campaign_kit import LINK, publish, volunteer_message
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
RATE, TOLERANCE = 20.0, 0.3  # segments a second per sender, in the notifier and the carrier
CROWD = 5000


async def _raise_to_carrier(s: System, phone: str) -> float:
    """Seconds from publishing a call-out to its SMS leaving the carrier's queue (`sending`)."""
    callout = issued(phone=phone, rank=1)
    raised = datetime.now(UTC)
    await s.dispatcher.publish(callout)
    await s.wait_received([phone])
    [msg] = s.sandbox.received(phone)

    async def left() -> bool:
        return msg.sent is not None

    await eventually(left, what="the call-out left the carrier queue")
    assert msg.sent is not None
    return (msg.sent - raised).total_seconds()


def _at_carrier(s: System) -> int:
    return sum(len(v) for v in s.sandbox.sent_at.values())


async def test_a_callout_during_a_5000_campaign_is_not_delayed(notifier_settings: Factory) -> None:
    sandbox = SandboxSettings(mps=RATE, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=RATE, pacing_tolerance_s=TOLERANCE
    ) as s:
        alone = _raise_to_carrier(s, "+8613500000001")
        baseline = await alone
        run, campaign = uuid.uuid4(), uuid.uuid4()
        crowd = [f"+86135{10000 + i:06d}" for i in range(CROWD)]
        await publish(s, *(volunteer_message(run_id=run, campaign_id=campaign, phone=p)
                           for p in crowd))  # fmt: skip

        async def all_queued() -> bool:
            n = await s.pool.fetchval("SELECT count(*) FROM deliveries WHERE message = 'campaign'")
            return bool(n == CROWD) and _at_carrier(s) >= 30

        await eventually(all_queued, timeout=120, what="5,000 campaign SMS queued and going")
        during = await _raise_to_carrier(s, "+8613500000002")
        behind = await s.pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE message = 'campaign' AND state = 'pending'")
        assert behind > CROWD / 2, "the campaign was still going when the call-out left"
        # The call-out waits at most the carrier's share of the campaign (the pacing
        # tolerance, plus the one message already handed over on its sender) beyond normal.
        per_message = max(m.num_segments for p in crowd[:20] for m in s.sandbox.received(p)
                          if LINK.search(m.body)) / RATE  # fmt: skip
        allowed = baseline + TOLERANCE + per_message + 0.5
        assert during <= allowed, f"{during:.2f} s with the campaign, {baseline:.2f} s alone"
