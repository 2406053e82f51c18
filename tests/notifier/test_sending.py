"""Sending through the real twilio library to the sandbox over HTTP, with the real broker and DB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baiying_notifier.config import NotifierSettings
from baiying_sandbox.config import SandboxSettings
from baiying_shared.events.callouts import CalloutIssued, CalloutStoodDown
from baiying_shared.events.contacts import ContactFlagged, SmsOptChanged
from baiying_shared.events.deliveries import DeliveryStatusChanged
from tests.notifier.harness import issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def phones(n: int, base: int) -> list[str]:
    return [f"+86139{base:04d}{i:04d}" for i in range(n)]


async def test_alert_reaches_phone_and_statuses_flow_back(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        p = issued(phone="+8613900000001")
        await s.dispatcher.publish(p)
        await s.wait_received([p.phone])
        [body] = s.received(p.phone)
        assert "走失老人寻找" in body and "回复1接受" in body and "850米" in body

        async def statuses() -> Any:
            got = {e.status for e in s.tap.of(DeliveryStatusChanged, callout_id=p.callout_id)}
            return got >= {"queued", "sent", "delivered"} and got

        await eventually(statuses, what="queued, sent, delivered published")


async def test_5xx_is_retried_until_sent(notifier_settings: Factory) -> None:
    async with system(
        notifier_settings,
        sandbox=SandboxSettings(mps=0, error_rate=0.5, seed=7, callback_statuses=()),
    ) as s:
        targets = phones(20, 2)
        await s.dispatcher.publish(*(issued(phone=ph) for ph in targets))
        await s.wait_received(targets)
        assert s.sandbox.counters["errors_5xx"] > 0
        assert all(len(s.received(ph)) == 1 for ph in targets)


async def test_429_above_the_concurrent_request_limit_is_retried(
    notifier_settings: Factory,
) -> None:
    # Twilio answers 20429 for too many requests at once (not for the rate: that it queues).
    sandbox = SandboxSettings(mps=0, callback_statuses=(), concurrency_limit=2, latency_ms=30)
    async with system(
        notifier_settings,
        sandbox=sandbox,
        sms_max_in_flight=8,  # we overrun it
        retry_max_attempts=30,
        retry_base_s=0.2,
        retry_cap_s=1.0,
    ) as s:
        targets = phones(15, 3)
        await s.dispatcher.publish(*(issued(phone=ph) for ph in targets))
        await s.wait_received(targets, limit_s=60)
        assert s.sandbox.counters["rejected_429"] > 0
        assert all(len(s.received(ph)) == 1 for ph in targets)


async def test_permanent_errors_fail_flag_and_opt_out(notifier_settings: Factory) -> None:
    bad, unsub, ok = "+8613900000211", "+8613900000610", "+8613900000999"
    sandbox = SandboxSettings(mps=0, failing_numbers={bad: 21211, unsub: 21610})
    async with system(notifier_settings, sandbox=sandbox) as s:
        events = [issued(phone=ph) for ph in (bad, unsub, ok)]
        await s.dispatcher.publish(*events)
        await s.wait_received([ok])

        async def reported() -> bool:
            failed = s.tap.of(DeliveryStatusChanged, status="failed")
            flagged = {f.phone: f.error_code for f in s.tap.of(ContactFlagged)}
            return len(failed) == 2 and flagged == {bad: 21211, unsub: 21610}

        await eventually(reported, what="failed statuses and flags")
        codes = {
            f.callout_id: f.error_code for f in s.tap.of(DeliveryStatusChanged, status="failed")
        }
        assert codes == {events[0].callout_id: 21211, events[1].callout_id: 21610}
        [opt] = s.tap.of(SmsOptChanged)
        assert opt.phone == unsub and opt.opted_out
        assert s.sandbox.counters["rejected_permanent"] == 2, "permanent errors are not retried"
        # and the opted-out number is not tried again
        again = issued(phone=unsub)
        await s.dispatcher.publish(again)
        await eventually(
            lambda: _async(s.tap.of(DeliveryStatusChanged, callout_id=again.callout_id)),
            what="suppressed send reported",
        )
        assert s.sandbox.counters["rejected_permanent"] == 2


async def _async(value: Any) -> Any:
    return value


async def test_a_big_advisory_does_not_starve_a_later_callout(notifier_settings: Factory) -> None:
    async with system(
        notifier_settings, sandbox=SandboxSettings(mps=0, callback_statuses=()), sender_mps=10.0
    ) as s:
        crowd = phones(80, 4)
        await s.dispatcher.publish(
            *(issued(phone=ph, kind="advisory", rank=i) for i, ph in enumerate(crowd))
        )
        await eventually(lambda: _async(len(s.sandbox.messages) >= 5), what="advisory under way")
        urgent = issued(phone="+8613900009999", rank=1)
        await s.dispatcher.publish(urgent)
        await s.wait_received([urgent.phone])
        order = [m.to for m in s.sandbox.messages.values()]
        position = order.index(urgent.phone)
        assert position < 40, f"call-out left as message {position} of {len(crowd) + 1}"
        first = next(m for m in s.sandbox.messages.values() if m.to in crowd)
        assert "以案说防" in first.body and "验证码" in first.body


async def test_a_stand_down_wave_during_a_fan_out_cancels_or_follows_each_alert(
    notifier_settings: Factory,
) -> None:
    """Polls full of stand-downs race the sender's claims: each alert is either cancelled
    unsent or sent and followed by one stand-down; nothing left open, no deadlock recorded."""
    sandbox = SandboxSettings(mps=0, latency_ms=2, callback_statuses=())
    async with system(notifier_settings, sandbox=sandbox, sender_mps=400.0) as s:
        targets = phones(1200, 5)
        alerts = [issued(phone=ph, rank=i) for i, ph in enumerate(targets)]
        deadlocks = await _deadlocks(s.pool)
        await s.dispatcher.publish(*alerts)
        await eventually(lambda: _async(len(s.sandbox.messages) >= 100), what="fan-out under way")
        await s.dispatcher.publish(*(_stood_down(a) for a in alerts))

        async def settled() -> bool:
            open_rows = await s.pool.fetchval(
                "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'claimed')"
            )
            downs = await s.pool.fetchval(
                "SELECT count(*) FROM callouts WHERE state = 'stood_down'"
            )
            return open_rows == 0 and downs == len(alerts)

        await eventually(settled, timeout=60, what="every alert cancelled or followed")
        states = dict(
            await s.pool.fetch(
                "SELECT state, count(*) FROM deliveries WHERE message = 'alert' GROUP BY 1"
            )
        )
        assert states.get("cancelled", 0) > 0 and states.get("submitted", 0) > 0, states
        assert await _deadlocks(s.pool) == deadlocks, "cancels and claims lock in one order"
        for ph in targets:
            got = ["无需前往" in body for body in s.received(ph)]
            assert got in ([], [False, True]), f"{ph}: {got}"


async def _deadlocks(pool: Any) -> int:
    await pool.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await pool.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
    )


def _stood_down(alert: CalloutIssued) -> CalloutStoodDown:
    return CalloutStoodDown(
        callout_id=alert.callout_id,
        incident_id=alert.incident_id,
        volunteer_id=alert.volunteer_id,
        phone=alert.phone,
        channels=alert.channels,
        reason="staffed",
        title=alert.title,
    )
