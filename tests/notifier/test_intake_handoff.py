"""Intake hands its committed pending SMS rows straight to this process's sender.

The rows skip the NOTIFY -> load_by_seq round trip on the raise-to-SMS path; the NOTIFY still
goes (other instances, the fallback). Only committed rows, only new pending ones, only to the
senders of the same pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_notifier import intake, queueing
from baiying_notifier.store import Queued
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.callouts import TOPIC
from baiying_shared.events.envelope import Envelope, Payload, wrap
from baiying_shared.kafka.consumer import Message
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import issued


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    schema = f"nh_{unique}"
    await migrate(common_settings.database_url.get_secret_value(), schema=schema,
                  package="baiying_notifier")  # fmt: skip
    made = await create_pool(common_settings, schema=schema)
    try:
        yield made
    finally:
        await made.close()


def msgs(*payloads: Payload) -> list[Message]:
    envs: list[Envelope[Any]] = [wrap(p, producer="dispatcher") for p in payloads]
    return [Message(TOPIC, 0, n, str(e.payload.volunteer_id), e) for n, e in enumerate(envs)]


async def test_committed_pending_rows_reach_the_sender_whole_and_once(
    pool: asyncpg.Pool[Any],
) -> None:
    got: list[Queued] = []
    undo = intake.hand_to(pool, got.append)
    alerts = [issued(phone="+8613700000201"), issued(phone="+8613700000202")]
    poll = msgs(*alerts)
    await intake.on_batch(pool, poll)
    await intake.on_batch(pool, poll)  # redelivered: nothing new to hand over
    undo()
    await intake.on_batch(pool, msgs(issued(phone="+8613700000203")))  # after the undo
    stored = await pool.fetch(
        "SELECT id, seq, priority, rank, phone, body, attempts FROM deliveries"
        " WHERE callout_id = ANY($1::uuid[]) ORDER BY seq", [a.callout_id for a in alerts])
    assert [q.id for q in got] == [r["id"] for r in stored]
    for q, r in zip(got, stored, strict=True):  # what Sender.push and the request read
        assert {k: q.row[k] for k in r.keys()} == dict(r)
        assert q.attempts == 0


async def test_opted_out_and_other_pools_rows_are_not_handed_over(
    pool: asyncpg.Pool[Any], common_settings: CommonSettings, unique: str,
) -> None:
    await pool.execute("INSERT INTO opt_outs (phone, opted_out, keyword)"
                       " VALUES ('+8613700000211', true, 'STOP')")
    mine: list[Queued] = []
    other: list[Queued] = []
    elsewhere = await create_pool(common_settings, schema=f"nh_{unique}")  # another runtime
    undo = [intake.hand_to(pool, mine.append), intake.hand_to(elsewhere, other.append)]
    try:
        await intake.on_batch(pool, msgs(issued(phone="+8613700000211"),
                                         issued(phone="+8613700000212")))
    finally:
        for u in undo:
            u()
        await elsewhere.close()
    assert [q.row["phone"] for q in mine] == ["+8613700000212"], "the suppressed one stays"
    assert other == []


async def test_a_batch_that_rolls_back_hands_nothing_over(
    pool: asyncpg.Pool[Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control for 'only after commit': the rows exist inside the transaction until here."""
    got: list[Queued] = []
    undo = intake.hand_to(pool, got.append)

    async def fail(*_: object) -> None:
        raise RuntimeError("the announce failed")

    monkeypatch.setattr(queueing, "announce", fail)  # the last statement of the transaction
    try:
        with pytest.raises(RuntimeError):
            await intake.on_batch(pool, msgs(issued(phone="+8613700000221")))
    finally:
        undo()
    assert got == []
    assert await pool.fetchval("SELECT count(*) FROM deliveries") == 0
