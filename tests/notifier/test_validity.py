"""Stuck against real Twilio: a ValidityPeriod makes the carrier drop a message that would
arrive too late (failed, 30036), and that failure re-routes it through another sender once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from baiying_notifier import store
from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import Capabilities
from baiying_notifier.gateway.twilio import TwilioGateway
from baiying_notifier.queueing import DELIVERIES_CHANNEL
from baiying_notifier.stuck import path, validity_s
from baiying_sandbox.config import SandboxSettings
from baiying_shared.devsms import DEV_SENDERS
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import System, issued, system
from tests.notifier.own_schema import schema_pool
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
STALLED, OPEN = DEV_SENDERS[0], DEV_SENDERS[1]


def _phones(n: int, base: int) -> list[str]:
    return [f"+86137{base:04d}{i:04d}" for i in range(n)]


def _twilio(cancels_queued: bool = False) -> TwilioGateway:
    return TwilioGateway(account_sid="AC" + "0" * 32, auth_token="x", base_url="http://127.0.0.1:9",
                         messaging_service_sid=None, timeout_s=1.0, cancels_queued=cancels_queued)


async def test_the_capability_flags_choose_the_path() -> None:
    twilio = _twilio()
    try:
        caps = twilio.capabilities
        assert caps.supports_validity and not caps.cancels_queued
        assert path(caps, validity=True) == "validity"
        assert validity_s(caps, validity=True, after_s=2.5) == 3  # whole seconds, rounded up
        assert validity_s(caps, validity=True, after_s=0.2) == 1
        assert validity_s(caps, validity=True, after_s=1e6) == 36000  # Twilio's largest
        assert validity_s(caps, validity=True, after_s=0) is None  # stuck handling off
        assert path(caps, validity=False) == "cancel"
        assert validity_s(caps, validity=False, after_s=30) is None
    finally:
        await twilio.close()
    bare = Capabilities(supports_status_callback=False, supports_lookup=True)
    assert path(bare, validity=True) is None  # no callback to hear the expiry, no cancel


async def _rows(s: System) -> list[Any]:
    rows = await s.pool.fetch("SELECT * FROM deliveries WHERE channel = 'sms'")
    return rows if rows and all(r["state"] == "submitted" for r in rows) else []


async def test_a_message_expired_in_a_stuck_queue_is_rerouted_once(
    notifier_settings: Factory,
) -> None:
    # As Twilio: a queued message cannot be cancelled (the sandbox refuses with 30409).
    sandbox = SandboxSettings(mps=50, stalled_senders=(STALLED,), callback_delay_ms=5)
    async with system(notifier_settings, sandbox=sandbox, sender_mps=50.0, stuck_after_s=1.0) as s:
        phones = _phones(8, 1)
        issues = [issued(phone=p, rank=i) for i, p in enumerate(phones)]
        await s.dispatcher.publish(*issues)

        async def all_sent() -> bool:
            got = [s.sandbox.received(p) for p in phones]
            return all(any(m.sent and m.from_ == OPEN for m in ms) for ms in got)

        await eventually(all_sent, timeout=30, what="every phone reached")
        rows = await eventually(lambda: _rows(s), what="re-routed sends recorded")
        expired = [m for p in phones for m in s.sandbox.received(p) if m.from_ == STALLED]
        assert expired, "some went to the stalled sender first"
        assert all((m.status, m.error_code, m.sent) == ("failed", 30036, None) for m in expired)
        for p in phones:
            got = s.sandbox.received(p)
            assert [m.from_ for m in got if m.sent] == [OPEN], (p, got)  # one SMS, never two
            assert all(m.validity_s == 1 for m in got)  # sent with ValidityPeriod
        assert s.sandbox.counters["cancel_refused"] == 0, "the validity path asks no cancel"
        moved = [r for r in rows if r["cancelled_sids"]]
        assert {sid for r in moved for sid in r["cancelled_sids"]} == {m.sid for m in expired}
        assert all(len(r["cancelled_sids"]) == 1 for r in moved)
        assert all(r["sender"] == OPEN for r in rows)
        # One call-out's statuses share a partition, in order: a "failed" wrongly published at
        # the expiry would arrive before the re-sent SMS's "delivered".
        async def all_delivered() -> bool:
            got = {d.callout_id for d in s.tap.of(DeliveryStatusChanged, status="delivered")}
            return got >= {i.callout_id for i in issues}

        await eventually(all_delivered, timeout=30, what="every alert's delivered status")
        assert not s.tap.of(DeliveryStatusChanged, status="failed"), "no alert reported lost"


async def test_a_second_expiry_is_a_failure_the_dispatcher_hears_of(
    notifier_settings: Factory,
) -> None:
    sandbox = SandboxSettings(mps=50, stalled_senders=(STALLED, OPEN), callback_delay_ms=5)
    async with system(notifier_settings, sandbox=sandbox, sender_mps=50.0, stuck_after_s=1.0) as s:
        phones = _phones(3, 2)
        issues = [issued(phone=p, rank=i) for i, p in enumerate(phones)]
        await s.dispatcher.publish(*issues)

        async def reported() -> list[Any]:
            failed = s.tap.of(DeliveryStatusChanged, status="failed")
            return failed if len(failed) >= len(phones) else []

        failed = await eventually(reported, timeout=30, what="failures reported")
        assert sorted(f.callout_id for f in failed) == sorted(i.callout_id for i in issues)
        assert all(f.error_code == 30036 for f in failed)
        for p in phones:  # once through each sender, then it stands: no third try
            got = s.sandbox.received(p)
            assert sorted(m.from_ or "" for m in got) == sorted([STALLED, OPEN]), got
            assert all((m.status, m.sent) == ("failed", None) for m in got)


# --- the failure callback, replayed, on a schema of this test's own ---------------------------


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    async with schema_pool(common_settings, f"nv_{unique}") as p:
        yield p


async def _submitted_row(pool: asyncpg.Pool[Any], *, message: str = "alert") -> tuple[Any, str]:
    sid = "SM" + uuid.uuid4().hex
    row = await pool.fetchrow(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, phone, body, state, status, sender, provider_sid, claimed_at)"
        " VALUES ($1, $2, $3, $4, 'sms', $5, 2, '+8613900000001', 'x', 'submitted',"
        " 'queued', $6, $7, now()) RETURNING *",
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), message, STALLED, sid,
    )  # fmt: skip
    return row, sid


async def test_the_expiry_replayed_reroutes_once_and_announces_it(
    pool: asyncpg.Pool[Any],
) -> None:
    row, sid = await _submitted_row(pool)
    heard: list[tuple[int, str]] = []
    async with pool.acquire() as listener, pool.acquire() as conn:

        def hear(_conn: object, pid: int, _channel: str, payload: str) -> None:
            heard.append((pid, payload))

        await listener.add_listener(DELIVERIES_CHANNEL, hear)
        for _ in range(2):  # the callback, then the same status again (replay or sweep)
            async with conn.transaction():
                await store.record_status(conn, row=row, sid=sid, status="failed", code=30001)
        await store.apply_callback(pool, delivery_id=str(row["id"]), sid=sid, status="failed",
                                   code=30001)  # a late copy of the old SID's: ignored
        mine = conn.get_server_pid()  # NOTIFY is database-wide: other tests' too

        async def announced() -> list[tuple[int, str]]:
            return [h for h in heard if h[0] == mine]

        await eventually(announced, what="the re-routed row announced")
        await listener.remove_listener(DELIVERIES_CHANNEL, hear)
    moved = await pool.fetchrow("SELECT * FROM deliveries")
    assert (moved["state"], moved["provider_sid"], moved["status"]) == ("pending", None, None)
    assert (moved["avoid_sender"], moved["cancelled_sids"]) == (STALLED, [sid])
    assert [h for h in heard if h[0] == mine] == [(mine, str(row["seq"]))]
    assert not await pool.fetchval("SELECT count(*) FROM outbox"), "nothing published"


async def test_other_failures_and_stale_sids_do_not_reroute(pool: asyncpg.Pool[Any]) -> None:
    row, sid = await _submitted_row(pool)
    await store.apply_callback(pool, delivery_id=str(row["id"]), sid="SM" + uuid.uuid4().hex,
                               status="failed", code=30001)  # an SID that is not the row's
    assert (await pool.fetchrow("SELECT state FROM deliveries"))["state"] == "submitted"
    await store.apply_callback(pool, delivery_id=str(row["id"]), sid=sid, status="failed",
                               code=30003)  # unreachable handset: a real failure
    after = await pool.fetchrow("SELECT * FROM deliveries")
    assert (after["state"], after["status"], after["cancelled_sids"]) == ("submitted", "failed", [])
