"""Three notifiers sharing two sender numbers: the per-sender segment rate holds by the
carrier's clock and no SMS goes twice, also when a lease holder is SIGKILLed mid-advisory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from baiying_shared.devsms import DEV_SENDERS
from tests.faults.conftest import FAULTS_ENV
from tests.faults.crowd import sent_count
from tests.faults.infra import PrivateInfra
from tests.faults.instances import Instances
from tests.faults.scenes import served_once
from tests.faults.senders import (
    Notifiers,
    achieved_rate,
    carrier_clock,
    carrier_waits,
    instance_of,
    lease_holders,
    lease_log,
    publisher,
    wait_timeline,
)
from tests.notifier.harness import issued
from tests.support import eventually
from tests.system.harness import running_system

pytestmark = pytest.mark.faults

RATE, TOLERANCE, TTL = 40.0, 0.3, 2.0
CROWD = 400
TITLE = "电信诈骗预警：冒充公检法来电索要验证码或要求转账至安全账户的，一律是诈骗"  # two parts


@pytest.fixture
async def three(private_infra: PrivateInfra) -> AsyncIterator[Instances]:
    private_infra.ensure_up()
    infra = private_infra.infra
    env = {**FAULTS_ENV, "BAIYING_SENDER_MPS": str(RATE),
           "BAIYING_PACING_TOLERANCE_S": str(TOLERANCE),
           "BAIYING_SENDER_LEASE_TTL_S": str(TTL),
           # the carrier paces as Twilio does, with a short queue so an overrun would show
           "BAIYING_SANDBOX_MPS": str(RATE), "BAIYING_SANDBOX_QUEUE_LIMIT_S": "5",
           "BAIYING_SANDBOX_HANDOVER_MS": "0"}  # fmt: skip
    async with running_system(infra.admin_database_url, infra.kafka_bootstrap, make=Notifiers,
                              env_extra=env, counts={"notifier": 3}) as system:  # fmt: skip
        assert isinstance(system, Instances)
        yield system


async def test_three_notifiers_keep_two_senders_rate_and_send_once_through_a_sigkill(
    three: Instances,
) -> None:
    async def split() -> dict[str, object] | None:
        held = await lease_holders(three)
        return held if set(held) == set(DEV_SENDERS) and len(set(held.values())) == 2 else None

    await eventually(split, timeout=30, what="each sender leased by its own instance")
    crowd = [f"+86172{n:08d}" for n in range(10**7, 10**7 + CROWD)]
    async with publisher(three) as dispatcher:
        await dispatcher.publish(
            *(issued(phone=p, kind="advisory", rank=i, title=TITLE) for i, p in enumerate(crowd))
        )

    async def under_way() -> bool:
        return await sent_count(three, crowd) >= CROWD // 4

    await eventually(under_way, timeout=60, what="advisory under way")

    held = await lease_holders(three)
    victim_holder = held[DEV_SENDERS[0]]
    victim = instance_of(three, victim_holder)
    await three.kill(victim)  # SIGKILL: no release, its lease must lapse
    killed = time.monotonic()

    async def moved() -> bool:
        now = await lease_holders(three)
        return now.get(DEV_SENDERS[0]) not in (None, victim_holder)

    await eventually(moved, timeout=TTL + 10, interval=0.1, what="the dead holder's lease moved")
    assert time.monotonic() - killed < TTL + 10
    await served_once(three, crowd, what="every recipient exactly one SMS", within=180,
                      context=str({n: lease_log(three, n) for n in three.instances("notifier")}))

    # The carrier drains each sender at RATE and holds at most 5 s of it (queue_limit_s): had
    # two instances paced one number, its queue would have grown by RATE every second until it
    # overflowed (21611), and most messages would have waited long in it. Neither happened,
    # and each sender was kept busy. (5 s, not less: a CPU-starved sandbox on a loaded 2-core
    # box stalls now and then, and its queue grows while it does.)
    stats = await three.sandbox("GET", "/v1/admin/stats")
    assert stats["numbers_with_duplicates"] == 0
    rejected = [stats.get(k, 0) for k in ("rejected_21611", "failed_30001", "rejected_429")]
    assert rejected == [0, 0, 0], stats
    waits = sorted(await carrier_waits(three, crowd))
    p95 = waits[int(0.95 * (len(waits) - 1))]
    logs = {n: lease_log(three, n) for n in three.instances("notifier")}
    # Our pacer keeps TOLERANCE at the carrier; the rest is the claim and request latency of
    # a loaded box, which bunches arrivals: about a second in all, as the issue asks.
    assert p95 <= TOLERANCE + 1.0, f"carrier queue waits p95 {p95:.2f} s, worst {waits[-5:]}" + (
        f" {await wait_timeline(three, crowd)} {logs}")
    clock = await carrier_clock(three)
    for sender in DEV_SENDERS:
        rate = achieved_rate(clock[sender])
        assert RATE * 0.5 <= rate <= RATE * 1.02, (sender, rate)
