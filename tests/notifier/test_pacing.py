"""Pacing in segments, as the carrier counts them, measured by the carrier's own clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from baiying_notifier.config import NotifierSettings
from baiying_notifier.domain.pacing import SegmentPacer, TokenBucket
from baiying_sandbox.config import SandboxSettings
from tests.notifier.harness import issued, system
from tests.notifier.test_urgent import callout_during_advisory
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
ZH_TITLE = "走失老人寻找，身穿蓝色外套、头戴灰色帽子，最后出现在南门广场附近"
EN_TITLE = "Missing elder"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_two_segment_message_costs_two() -> None:
    clock = FakeClock()
    pacer = SegmentPacer(rate=10, tolerance_s=0, clock=clock)
    assert pacer.wait_time() == 0
    pacer.take(2)
    assert pacer.wait_time() == pytest.approx(0.2)
    clock.now += 0.2
    pacer.take(1)
    assert pacer.wait_time() == pytest.approx(0.1)


def test_bulk_waits_at_its_own_tolerance_while_a_callout_may_go_now() -> None:
    clock = FakeClock()
    pacer = SegmentPacer(rate=10, tolerance_s=0.5, clock=clock)
    pacer.take(3)  # 0.3 s of segments at the carrier
    assert abs(pacer.wait_time(tolerance_s=0.1) - 0.2) < 1e-9  # an advisory: 0.2 s more
    assert pacer.wait_time() == 0  # a call-out: within the whole tolerance
    assert pacer.wait_time(tolerance_s=5.0) == pacer.wait_time()  # never past the pacer's own
    clock.now += 0.2
    assert abs(pacer.wait_time(tolerance_s=0.1)) < 1e-9


def test_the_lead_allowed_on_top_is_at_most_half_of_each_tolerance() -> None:
    clock = FakeClock()
    pacer = SegmentPacer(rate=10, tolerance_s=0.5, clock=clock)
    for _ in range(100):  # answers 0.4 s after each take: a slow, loaded box
        pacer.settle(clock.now - 0.4)
    pacer.take(8)  # 0.8 s at the carrier
    assert abs(pacer.wait_time() - 0.8 + 0.5 + 0.25) < 1e-3  # lead 0.25 on top of 0.5
    assert abs(pacer.wait_time(tolerance_s=0.2) - 0.8 + 0.2 + 0.1) < 1e-3  # 0.1 on top of 0.2


def test_a_late_request_re_anchors_the_virtual_queue_on_the_carriers_schedule() -> None:
    clock = FakeClock()
    pacer = SegmentPacer(rate=10, tolerance_s=0.2, clock=clock)
    pacer.take(1)
    first = pacer.mark()
    pacer.take(2)  # three segments: by our schedule the carrier is done 0.3 s from now
    clock.now += 0.25  # the first one's claim took 0.25 s: the carrier got nothing till now
    assert pacer.backlog_s() == pytest.approx(0.05)  # control: open loop, 0.05 s left
    pacer.requested(first, 1)
    # The carrier sends it and the two after it from now: 0.3 s, as its own clock has it.
    assert pacer.backlog_s() == pytest.approx(0.3)
    assert pacer.wait_time(tolerance_s=0.2) == pytest.approx(0.1)  # bulk waits for that
    last = pacer.mark()
    pacer.requested(last, 2)  # on time: a lower bound never moves the queue down
    assert pacer.backlog_s() == pytest.approx(0.3)


def _jittery_run(
    take: Callable[[int], bool], wait: Callable[[], float], clock: FakeClock, seconds: float
) -> list[tuple[float, int]]:
    """Send as a late-waking event loop would: every sleep overshoots by 0-15 ms."""
    rng, sent, end = random.Random(3), [], clock.now + seconds
    while clock.now < end:
        clock.now += wait() + rng.uniform(0, 0.015)
        cost = rng.choice((1, 2))
        if take(cost):
            sent.append((clock.now, cost))
    return sent


def test_jitter_neither_loses_rate_nor_bursts_past_the_window() -> None:
    rate, tolerance = 100.0, 0.25
    clock = FakeClock()
    pacer = SegmentPacer(rate=rate, tolerance_s=tolerance, clock=clock)

    def take(cost: int) -> bool:
        pacer.take(cost)
        assert pacer.backlog_s() <= tolerance + cost / rate + 0.016, "carrier queue stays short"
        return True

    sent = _jittery_run(take, pacer.wait_time, clock, 20.0)
    total = sum(c for _, c in sent)
    assert total >= 0.99 * rate * 20
    for start, _ in sent:  # any one-second window: the rate plus the tolerance, no more
        window = sum(c for t, c in sent if start <= t < start + 1.0)
        assert window <= rate * (1 + tolerance) + 2

    # The one-token bucket it replaces loses the overshoot of every sleep.
    clock2 = FakeClock()
    bucket = TokenBucket(rate=rate, burst=1.0, clock=clock2)
    old = _jittery_run(lambda _c: bucket.try_take(), bucket.wait_time, clock2, 20.0)
    assert len(old) < 0.6 * rate * 20


def _phones(n: int, base: int) -> list[str]:
    return [f"+86137{base:04d}{i:04d}" for i in range(n)]


async def test_segment_pacing_with_chinese_and_english_bodies(notifier_settings: Factory) -> None:
    rate, tolerance = 10.0, 0.3
    sandbox = SandboxSettings(mps=rate, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=rate, pacing_tolerance_s=tolerance
    ) as s:
        zh, en = _phones(14, 1), _phones(14, 2)
        await s.dispatcher.publish(
            *(issued(phone=p, rank=i, language="zh", title=ZH_TITLE) for i, p in enumerate(zh)),
            *(issued(phone=p, rank=i, language="en", title=EN_TITLE) for i, p in enumerate(en)),
        )
        await s.wait_received(zh + en, limit_s=60)
        msgs = [m for p in zh + en for m in s.sandbox.received(p)]
        assert len(msgs) == len(zh + en), "each once"
        costs = {m.to: m.num_segments for m in msgs}
        assert min(costs[p] for p in zh) >= 2, "the Chinese call-out is a multi-part SMS"
        # (the English body carries the Chinese place name, so it is UCS-2 as well; each
        # body's cost is whatever the carrier counted, and the pacing must follow that)
        assert s.sandbox.counters["rejected_21611"] == 0
        for sender in s.settings.sms_senders:
            stamps = s.sandbox.sent_at[sender]
            segs = sum(c for _, c in stamps)
            span = stamps[-1][0] - stamps[0][0]
            # the carrier was kept busy: its clock shows the sender at (nearly) its rate
            assert segs - stamps[-1][1] <= rate * span * 1.02 + 1
            assert segs - stamps[-1][1] >= rate * span * 0.9, (sender, segs, span)
        waits = [m.sent - m.created for m in msgs if m.sent]
        assert max(waits) <= timedelta(seconds=tolerance + 0.35), "the carrier queue stays short"


async def test_nothing_lost_or_doubled_when_the_carrier_queue_overflows(
    notifier_settings: Factory,
) -> None:
    sandbox = SandboxSettings(mps=5, queue_limit_s=1, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings,
        sandbox=sandbox,
        sender_mps=60.0,  # we overrun the carrier: its queue fills and it answers 21611
        retry_max_attempts=40,
        retry_base_s=0.2,
        retry_cap_s=1.0,
    ) as s:
        targets = _phones(24, 3)
        await s.dispatcher.publish(*(issued(phone=p, rank=i) for i, p in enumerate(targets)))
        await s.wait_received(targets, limit_s=90)
        assert s.sandbox.counters["rejected_21611"] > 0
        assert all(len(s.received(p)) == 1 for p in targets)
        assert len(s.sandbox.messages) == len(targets)


async def test_a_callout_during_an_advisory_leaves_the_carrier_next(
    notifier_settings: Factory,
) -> None:
    """The carrier queue holds at most the pacing tolerance: all the call-out waits there.
    (With the bulk tolerance shorter it waits less: test_urgent.py.)"""
    rate, tolerance = 20.0, 0.3
    sandbox = SandboxSettings(mps=rate, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=rate, pacing_tolerance_s=tolerance,
        pacing_bulk_tolerance_s=tolerance,  # the whole tolerance: the carrier queue's worst
    ) as s:
        crowd = _phones(200, 4)  # 200 segments or more over two senders: 5 s of carrier time
        msg = await callout_during_advisory(s, crowd, "+8613799999999")

        async def left() -> bool:
            return msg.sent is not None

        await eventually(left, what="the call-out left the carrier queue")
        assert msg.sent is not None
        waited = (msg.sent - msg.created).total_seconds()
        assert waited <= tolerance + 0.35, f"queued {waited:.2f} s at the carrier"
        behind = [m for p in crowd for m in s.sandbox.received(p) if m.sent is None]
        assert behind, "the advisory was still going when the call-out left"


async def test_a_signin_code_goes_after_callouts_and_before_advisories(
    notifier_settings: Factory,
) -> None:
    """All three queued at once: every call-out alert first, then the code, then advisories."""
    sandbox = SandboxSettings(mps=20, callback_statuses=(), callback_delay_ms=5)
    # One sender, no tolerance, 100 ms apart: the carrier sees the queue's order. (With two
    # senders two messages leave at the same instant and their requests race to the carrier,
    # so the code once arrived a millisecond before the last call-out: order across senders
    # is not something a queue can promise.)
    async with system(
        notifier_settings,
        sandbox=sandbox,
        sms_senders=("+8610655590001",),
        sender_mps=10.0,
        pacing_tolerance_s=0.0,
    ) as s, httpx.AsyncClient(base_url=s.notifier_url) as http:
        known = issued(phone="+8613788880000", rank=1)
        await s.dispatcher.publish(known)
        await s.wait_received([known.phone])
        leases = s.notifier.state.sender.leases
        # Someone else holds the sender for a while: everything below queues up meanwhile.
        await s.pool.execute(
            "UPDATE sender_leases SET holder = gen_random_uuid(), epoch = epoch + 1,"
            " expires_at = now() + interval '1 hour'"
        )

        async def no_lease() -> bool:
            return not leases.held()

        await eventually(no_lease, timeout=10, what="the notifier let its lease go")
        crowd, urgent = _phones(12, 5), _phones(3, 6)
        await s.dispatcher.publish(
            *(issued(phone=p, kind="advisory", rank=i) for i, p in enumerate(crowd)),
            *(issued(phone=p, rank=50 + i) for i, p in enumerate(urgent)),
        )

        async def queued(n: int) -> bool:
            return await s.pool.fetchval(
                "SELECT count(*) FROM deliveries WHERE state = 'pending'"
            ) >= n  # type: ignore[no-any-return]

        await eventually(lambda: queued(15), what="advisories and call-outs pending")
        r = await http.post("/v1/app/signin/code", json={"phone": known.phone})
        assert r.status_code == 202
        await eventually(lambda: queued(16), what="the code pending")
        await s.pool.execute("UPDATE sender_leases SET expires_at = now() - interval '1 s'")
        await s.wait_received(crowd + urgent)

        async def code_sent() -> bool:
            return bool([m for m in s.sandbox.received(known.phone) if "验证码" in m.body])

        await eventually(code_sent, what="the code sent")
        [code] = [m for m in s.sandbox.received(known.phone) if "验证码" in m.body]
        alerts = [m.seq for p in urgent for m in s.sandbox.received(p)]
        advisories = [m.seq for p in crowd for m in s.sandbox.received(p)]
        assert max(alerts) < code.seq < min(advisories), (alerts, code.seq, advisories)

        async def code_gone() -> bool:  # once the carrier has the code, our table forgets it
            sql = "SELECT state, body FROM deliveries WHERE message = 'signin'"
            row = await s.pool.fetchrow(sql)
            return row is not None and (row["state"], row["body"]) == ("submitted", "")

        await eventually(code_gone, what="the code's body cleared on hand-over")
