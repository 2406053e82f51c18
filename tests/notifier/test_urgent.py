"""An urgent call-out during a large advisory: the advisory keeps the carrier queue short (its
own, smaller tolerance) and the call-out goes next, by the carrier's clock."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest

from baiying_notifier.config import NotifierSettings
from baiying_notifier.sender import Sender
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.store import Message, Store
from tests.notifier.harness import System, issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
RATE, TOLERANCE, BULK = 20.0, 0.5, 0.1


async def callout_during_advisory(s: System, crowd: list[str], phone: str) -> Message:
    """An advisory to `crowd`; once 20 of it have left the carrier, a call-out to `phone`:
    its message at the carrier."""
    await s.dispatcher.publish(
        *(issued(phone=p, kind="advisory", rank=i) for i, p in enumerate(crowd))
    )

    async def under_way() -> bool:
        return sum(len(v) for v in s.sandbox.sent_at.values()) >= 20

    await eventually(under_way, what="advisory under way at the carrier")
    await s.dispatcher.publish(issued(phone=phone, rank=1))
    await s.wait_received([phone])
    [msg] = s.sandbox.received(phone)
    return msg


def _queue_ahead(sandbox: Store, msg: Message) -> int:
    """Segments of the same sender's queue ahead of `msg` when the carrier accepted it."""
    return sum(
        m.num_segments
        for m in sandbox.messages.values()
        if m.from_ == msg.from_ and m.created < msg.created and m.sent and m.sent > msg.created
    )


async def test_a_callout_goes_next_and_the_advisory_keeps_the_carrier_queue_short(
    notifier_settings: Factory,
) -> None:
    sandbox = SandboxSettings(mps=RATE, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=RATE, pacing_tolerance_s=TOLERANCE,
        pacing_bulk_tolerance_s=BULK,
    ) as s:
        crowd = [f"+86137{7:04d}{i:04d}" for i in range(160)]  # ~4 s of carrier time
        msg = await callout_during_advisory(s, crowd, "+8613799990000")

        async def all_left() -> bool:
            return all(m.sent is not None for m in s.sandbox.messages.values())

        await eventually(all_left, timeout=30, what="every message left the carrier")
        advisory = [m for p in crowd for m in s.sandbox.received(p)]
        assert len(advisory) == len(crowd), "each advisory SMS once"
        assert any(m.created > msg.created for m in advisory), "the advisory was still going"
        # What waited ahead of the call-out at the carrier: about the bulk tolerance, not the
        # whole one (20 x 0.5 = 10 segments, plus the pacer's lead of up to half of it).
        slack = int((BULK + 0.15) * RATE) + 2
        assert _queue_ahead(s.sandbox, msg) <= slack
        # ... and never more for any advisory message, per sender.
        worst: dict[str | None, int] = defaultdict(int)
        for m in advisory:
            worst[m.from_] = max(worst[m.from_], _queue_ahead(s.sandbox, m))
        assert max(worst.values()) <= slack, dict(worst)
        # The call-out went next: no advisory message reached the carrier after the
        # notifier had the call-out and before the call-out itself, on any sender.
        row = await s.pool.fetchrow(
            "SELECT created_at, claimed_at FROM deliveries WHERE phone = $1", msg.to
        )
        assert row is not None
        between = [m for m in advisory if row["claimed_at"] < m.created < msg.created]
        assert len(between) <= 3, "at most the advisory requests already on their way"


async def test_the_first_sender_keeps_its_advisory_queue_shortest_for_a_callout(
    notifier_settings: Factory,
) -> None:
    """With two senders the first holds advisories to the express tolerance: the call-out goes
    to its carrier queue, which has about that ahead (not the bulk tolerance's)."""
    bulk, express = 0.4, 0.05
    sandbox = SandboxSettings(mps=RATE, callback_statuses=(), callback_delay_ms=5)
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=RATE, pacing_tolerance_s=TOLERANCE,
        pacing_bulk_tolerance_s=bulk, pacing_express_tolerance_s=express,
    ) as s:
        crowd = [f"+86137{8:04d}{i:04d}" for i in range(160)]
        msg = await callout_during_advisory(s, crowd, "+8613799990001")
        first = min(s.settings.sms_senders)
        assert msg.from_ == first, "the call-out went to the express sender"
        # express x rate segments, its lead of up to half of that, the message on its way
        assert _queue_ahead(s.sandbox, msg) <= int(1.5 * express * RATE) + 2
        advisory = [m for p in crowd for m in s.sandbox.received(p)]
        assert {m.from_ for m in advisory} == set(s.settings.sms_senders), "both carry it"


async def test_a_callouts_claim_never_waits_for_the_shared_pool(notifier_settings: Factory) -> None:
    """During an advisory the shared pool is all status callbacks, submits and bulk claims:
    a call-out's claim goes on a connection of its own."""
    async with system(notifier_settings) as s:
        sender = s.notifier.state.sender
        await eventually(lambda: _opened(sender), what="the sender's claim connection")
        async with contextlib.AsyncExitStack() as held:  # every shared connection taken
            await _exhaust(s, held)
            claim = sender._claim_urgent([(uuid.uuid4(), "any", 1)])
            assert await asyncio.wait_for(claim, 5) == [None], "no such row: nothing claimed"
        # Control: without its own connection the same claim waits for a shared one.
        own, sender._urgent_pool = sender._urgent_pool, None
        try:
            async with contextlib.AsyncExitStack() as held:
                await _exhaust(s, held)
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(sender._claim_urgent([(uuid.uuid4(), "any", 1)]), 0.5)
        finally:
            sender._urgent_pool = own


async def _exhaust(s: System, held: contextlib.AsyncExitStack) -> None:
    """Take every connection of the shared pool that its LISTENs and lane locks leave."""
    with contextlib.suppress(TimeoutError):
        for _ in range(s.settings.db_pool_max):
            await held.enter_async_context(s.pool.acquire(timeout=1))
    assert s.pool.get_idle_size() == 0


async def _opened(sender: Sender) -> bool:
    return sender._urgent_pool is not None
