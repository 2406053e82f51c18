"""Status callbacks by group commit: concurrent signed callbacks are each answered 204 only
once their transaction has committed, share transactions, and each status is news once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from baiying_notifier.config import NotifierSettings
from baiying_sandbox.config import SandboxSettings
from baiying_shared.events.deliveries import DeliveryStatusChanged
from tests.notifier.harness import System, issued, system
from tests.notifier.test_replies import signed
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
STATUS = "/v1/webhooks/twilio/status"


async def _post(s: System, http: httpx.AsyncClient, form: dict[str, str]) -> tuple[int, bool]:
    """Status, and whether the callback's replay key was committed when the answer came."""
    r = await http.post(STATUS, data=form, headers=signed(s, STATUS, form))
    committed = await s.pool.fetchval(  # another session: sees committed rows only
        "SELECT EXISTS (SELECT 1 FROM webhook_seen WHERE key = $1)",
        f"status:{form['MessageSid']}:{form['MessageStatus']}")  # fmt: skip
    return r.status_code, bool(committed)


async def test_concurrent_callbacks_commit_before_204_together_and_once(
    notifier_settings: Factory,
) -> None:
    quiet = SandboxSettings(mps=0, callback_statuses=())  # the test is the carrier's callbacks
    async with system(notifier_settings, sandbox=quiet, status_callbacks=False) as s:
        alerts = [issued(phone=f"+86137200{i:05d}") for i in range(16)]
        await s.dispatcher.publish(*alerts)
        await s.wait_received([a.phone for a in alerts])
        forms = [{"MessageSid": s.sandbox.received(a.phone)[0].sid, "MessageStatus": "delivered",
                  "To": a.phone} for a in alerts]  # fmt: skip

        async def recorded() -> bool:
            return await s.pool.fetchval(
                "SELECT count(*) FROM deliveries WHERE provider_sid = ANY($1::text[])",
                [f["MessageSid"] for f in forms]) == len(forms)  # fmt: skip

        await eventually(recorded, what="every send recorded with its sid")
        async with httpx.AsyncClient(base_url=s.notifier_url, timeout=10) as http:
            answers = await asyncio.gather(*(_post(s, http, f) for f in forms))
            assert answers == [(204, True)] * len(forms), "204 only after the commit"
            again = await asyncio.gather(*(_post(s, http, f) for f in forms))
            assert again == [(204, True)] * len(forms)
        sizes = s.notifier.state.status_batch.sizes
        assert max(sizes) > 1, f"callbacks arriving together share a transaction: {sizes}"

        async def each_once() -> bool:
            return len(s.tap.of(DeliveryStatusChanged, status="delivered")) >= len(alerts)

        await eventually(each_once, what="a delivered event per message")
        delivered = s.tap.of(DeliveryStatusChanged, status="delivered")
        assert sorted(e.callout_id for e in delivered) == sorted(a.callout_id for a in alerts)
