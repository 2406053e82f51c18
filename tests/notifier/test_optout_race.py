"""Issue 11 (1): an opt-out racing alerts already queued leaves one state and at most one SMS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from baiying_notifier.config import NotifierSettings
from baiying_shared.events.contacts import SmsOptChanged
from baiying_shared.events.deliveries import DeliveryStatusChanged
from tests.notifier.harness import issued, system
from tests.notifier.test_replies import reply
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


async def _now(value: Any) -> Any:
    return value


async def test_cancel_racing_queued_alerts(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613700500001"
        first = issued(phone=phone, title="第一次求助")
        await s.dispatcher.publish(first)
        await s.wait_received([phone])  # the phone exists and has a live call-out
        queued = [issued(phone=phone, volunteer_id=first.volunteer_id, title=f"排队求助{i}")
                  for i in range(3)]
        # The carrier's CANCEL goes in while these alerts are being queued and sent.
        await asyncio.gather(s.dispatcher.publish(*queued), reply(s, phone, "cancel"))
        done = await eventually(
            lambda: _now(len({e.callout_id for e in s.tap.of(DeliveryStatusChanged)
                              if e.callout_id in {q.callout_id for q in queued}
                              and e.status in ("sent", "failed")}) == len(queued)),
            what="every queued alert sent or refused",
        )
        assert done
        alerts = [b for b in s.received(phone) if "排队求助" in b]
        assert len(alerts) <= 1, f"more than the one racing message: {alerts}"
        [opt] = [e for e in s.tap.of(SmsOptChanged) if e.keyword.upper() == "CANCEL"]
        assert (opt.phone, opt.opted_out) == (phone, True)
        refused = [e for e in s.tap.of(DeliveryStatusChanged)
                   if e.callout_id in {q.callout_id for q in queued} and e.status == "failed"]
        assert len(refused) >= len(queued) - 1
        assert {e.error_code for e in refused} <= {21610}
