"""Sender leases on the real database: a fair split, hand-over after a holder dies, fencing."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_notifier import store
from baiying_notifier.domain.leases import fair_share, plan
from baiying_notifier.leases import SenderLeases
from baiying_shared.settings import CommonSettings
from tests.notifier.own_schema import schema_pool
from tests.support import eventually

NAMES = ("+10000000001", "+10000000002")
TTL, MARGIN = 1.2, 0.3


def test_the_share_covers_every_sender_and_the_surplus_goes_back() -> None:
    assert [fair_share(2, n) for n in (0, 1, 2, 3)] == [2, 2, 1, 1]
    assert fair_share(3, 2) == 2
    # under the share: try every sender not held (a busy one must not block a free one)
    assert plan(names=("a", "b", "c"), held=set(), live_instances=3).acquire == ("a", "b", "c")
    assert plan(names=("a", "b"), held={"b"}, live_instances=3).acquire == ()
    # a newcomer makes us hold more than our share: the surplus goes back
    over = plan(names=("a", "b"), held={"a", "b"}, live_instances=2)
    assert over.release == ("b",) and over.acquire == ()


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    async with schema_pool(common_settings, f"nl_{unique}") as p:
        yield p


def leases(pool: asyncpg.Pool[Any]) -> SenderLeases:
    return SenderLeases(pool=pool, names=NAMES, ttl_s=TTL, margin_s=MARGIN)


async def settle(instances: list[SenderLeases]) -> None:
    """Step them all until every sender is held once, by instances holding at most their share
    (the first one up takes all; a given-back lease waits out its margin)."""
    share = fair_share(len(NAMES), len(instances))

    async def split() -> bool:
        for i in instances:
            await i.step()
        held = [set(i.held()) for i in instances]
        once = sorted(n for h in held for n in h) == sorted(NAMES)
        return once and all(len(h) <= share for h in held)

    await eventually(split, timeout=TTL + 2.0, interval=MARGIN / 3, what="senders split")


async def test_three_instances_split_two_senders_and_a_dead_holders_move(
    pool: asyncpg.Pool[Any],
) -> None:
    a, b, c = (leases(pool) for _ in range(3))
    await settle([a, b, c])

    dead = next(i for i in (a, b, c) if i.held())
    lost = next(iter(dead.held()))
    dead_epoch = dead.held()[lost].epoch
    survivors = [i for i in (a, b, c) if i is not dead]
    died = time.monotonic()  # it stops stepping: a SIGKILL leaves no release behind

    async def moved() -> bool:
        for s in survivors:
            await s.step()
        return any(lost in s.held() for s in survivors)

    await eventually(moved, timeout=TTL + 2.0, interval=TTL / 3, what="lease moved")
    assert time.monotonic() - died < TTL + 2.0
    epoch = next(s.held()[lost].epoch for s in survivors if lost in s.held())
    assert epoch > dead_epoch, "the hand-over is fenced"
    await settle(survivors)


async def _pending_row(pool: asyncpg.Pool[Any]) -> uuid.UUID:
    row_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, phone, body, state) VALUES ($1, $2, $3, $4, 'sms', 'alert', 2,"
        " '+8613700000001', 'x', 'pending')",
        row_id, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(),
    )  # fmt: skip
    return row_id


async def test_a_stale_holder_cannot_claim(pool: asyncpg.Pool[Any]) -> None:
    old, new = leases(pool), leases(pool)
    await old.step()
    name, old_epoch = NAMES[0], old.held()[NAMES[0]].epoch
    row = await _pending_row(pool)

    # Close to expiry (inside the margin) the claim is refused already.
    await pool.execute(
        "UPDATE sender_leases SET expires_at = now() + interval '0.1 s' WHERE sender = $1", name
    )
    assert await store.claim(pool, store.Fence(old.holder, MARGIN), [(row, name, old_epoch)]) == [
        store.UNFENCED
    ]
    # Expired and taken over: the old holder's epoch no longer claims anything ...
    await pool.execute(
        "UPDATE sender_leases SET expires_at = now() - interval '1 s' WHERE sender = $1", name
    )
    await new.step()
    assert name in new.held() and new.held()[name].epoch == old_epoch + 1
    stale = await store.claim(pool, store.Fence(old.holder, MARGIN), [(row, name, old_epoch)])
    assert stale == [store.UNFENCED], "refused, and the row stays pending for the holder"
    # ... nor does the new holder's epoch under the old holder's name, nor another sender's.
    assert await store.claim(
        pool, store.Fence(old.holder, MARGIN), [(row, name, old_epoch + 1)]
    ) == [store.UNFENCED]
    assert await store.claim(
        pool, store.Fence(new.holder, MARGIN), [(row, name, old_epoch + 1)]
    ) == [1], "the holder claims"
    assert await store.claim(
        pool, store.Fence(new.holder, MARGIN), [(row, name, old_epoch + 1)]
    ) == [None], "a row no longer pending is nobody's to send"
    await old.step()
    assert name not in old.held(), "the old holder learns it lost the lease"


async def test_a_successor_takes_given_back_leases_when_their_margin_ends(
    pool: asyncpg.Pool[Any],
) -> None:
    # A graceful stop gives its leases back with the margin still to run; a successor that
    # looked a moment too early must take them when that margin ends, not a ttl/3 later
    # (a restarted notifier, or the next test's, sending nothing for seconds).
    ttl = 9.0  # its regular step every 3 s
    old = SenderLeases(pool=pool, names=NAMES, ttl_s=ttl, margin_s=MARGIN)
    new = SenderLeases(pool=pool, names=NAMES, ttl_s=ttl, margin_s=MARGIN)
    await old.step()
    assert set(old.held()) == set(NAMES)
    await old.release_all()
    await new.step()
    assert not new.held(), "inside the margin: nothing to take yet"
    assert new.next_step_in() <= MARGIN + 0.05, "the next look is when the margin runs out"
    running = asyncio.create_task(new.run())
    try:

        async def taken() -> bool:
            return set(new.held()) == set(NAMES)

        await eventually(taken, timeout=ttl / 3 - 1.0, what="leases taken after the margin")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert new.next_step_in() == ttl / 3, "at its share: back to the regular step"
