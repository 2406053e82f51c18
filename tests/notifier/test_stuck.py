"""Stuck in a carrier queue: cancelled and re-routed through another sender, never sent twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import (
    Capabilities,
    GatewayError,
    OutboundSms,
    SentMessage,
    Submitted,
)
from baiying_notifier.stuck import unstick_once
from baiying_sandbox.config import SandboxSettings
from baiying_shared.devsms import DEV_SENDERS
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import System, issued, system
from tests.notifier.own_schema import schema_pool
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
STALLED, OPEN = DEV_SENDERS[0], DEV_SENDERS[1]


def _phones(n: int, base: int) -> list[str]:
    return [f"+86139{base:04d}{i:04d}" for i in range(n)]


def handed_over(s: System, phone: str) -> list[Any]:
    """What actually left a carrier queue for `phone` (a cancelled message never did)."""
    return [m for m in s.sandbox.received(phone) if m.sent is not None]


async def test_a_message_stuck_in_a_carrier_queue_goes_through_another_sender(
    notifier_settings: Factory,
) -> None:
    sandbox = SandboxSettings(
        mps=50, stalled_senders=(STALLED,), cancel_queued=True, callback_delay_ms=5
    )
    # The cancel path (no ValidityPeriod): a provider that withdraws queued messages.
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=50.0, stuck_after_s=1.0, sms_validity=False
    ) as s:
        phones = _phones(8, 1)
        await s.dispatcher.publish(*(issued(phone=p, rank=i) for i, p in enumerate(phones)))

        async def all_sent() -> bool:
            return all(handed_over(s, p) for p in phones)

        await eventually(all_sent, timeout=30, what="every phone reached")
        for p in phones:
            sent = handed_over(s, p)
            assert len(sent) == 1 and sent[0].from_ == OPEN, (p, sent)
        stuck = [m for p in phones for m in s.sandbox.received(p) if m.from_ == STALLED]
        assert stuck and all(m.status == "canceled" for m in stuck), "the stuck ones cancelled"

        async def recorded() -> list[Any]:  # the SID is recorded just after the carrier took it
            rows = await s.pool.fetch("SELECT cancelled_sids, sender, state FROM deliveries")
            return rows if all(r["state"] == "submitted" for r in rows) else []

        rows = await eventually(recorded, what="re-routed sends recorded")
        moved = [r for r in rows if r["cancelled_sids"]]
        assert len(moved) == len(stuck)
        assert {sid for r in moved for sid in r["cancelled_sids"]} == {m.sid for m in stuck}
        assert all(r["sender"] == OPEN for r in rows)


async def test_a_cancel_the_carrier_refuses_never_resends(notifier_settings: Factory) -> None:
    # Twilio's own rule: only a scheduled message can be cancelled, so a queued one stays.
    sandbox = SandboxSettings(mps=50, stalled_senders=(STALLED,), callback_delay_ms=5)
    # Without a ValidityPeriod (tests/notifier/test_validity.py has the path that re-routes).
    async with system(
        notifier_settings, sandbox=sandbox, sender_mps=50.0, stuck_after_s=0.5, sms_validity=False
    ) as s:
        phones = _phones(6, 2)
        await s.dispatcher.publish(*(issued(phone=p, rank=i) for i, p in enumerate(phones)))

        async def refused_twice() -> bool:
            return s.sandbox.counters["cancel_refused"] >= 2

        await eventually(refused_twice, timeout=30, what="cancels refused")
        s.sandbox.behaviour = s.sandbox.behaviour.model_copy(update={"stalled_senders": ()})

        async def all_sent() -> bool:
            return all(handed_over(s, p) for p in phones)

        await eventually(all_sent, timeout=30, what="every phone reached")
        for p in phones:
            assert len(s.sandbox.received(p)) == 1, "one message each, never a second"
        moved = "SELECT count(*) FROM deliveries WHERE cancelled_sids <> '{}'"
        assert not await s.pool.fetchval(moved)


# --- one pass against a provider that answers as told, on a schema of this test's own -------


class ScriptedGateway:
    """Cancel answers as told; fetch reports `status` (or fails)."""

    capabilities = Capabilities(
        supports_status_callback=True, supports_lookup=True, supports_fetch=True,
        supports_cancel=True,
    )  # fmt: skip

    def __init__(self, *, status: str | None, cancel_error: bool) -> None:
        self.status, self.cancel_error = status, cancel_error
        self.cancelled: list[str] = []

    async def send(self, sms: OutboundSms) -> Submitted:
        raise AssertionError("a stuck pass never sends")

    async def recent_to(self, *, to: str, since: datetime) -> list[SentMessage]:
        raise AssertionError("a stuck pass never lists")

    async def cancel(self, sid: str) -> None:
        self.cancelled.append(sid)
        if self.cancel_error:
            raise GatewayError(status=400, code=30409, message="not scheduled")

    async def fetch(self, sid: str) -> SentMessage:
        if self.status is None:
            raise GatewayError(status=None, code=None, message="timeout", ambiguous=True)
        return SentMessage(sid, "+8613900000001", "x", self.status, None, None)

    async def close(self) -> None:
        return None


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    async with schema_pool(common_settings, f"ns_{unique}") as p:
        yield p


async def _stuck_row(pool: asyncpg.Pool[Any]) -> str:
    sid = "SM" + uuid.uuid4().hex
    await pool.execute(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, phone, body, state, status, sender, provider_sid, claimed_at)"
        " VALUES ($1, $2, $3, $4, 'sms', 'alert', 2, '+8613900000001', 'x', 'submitted',"
        " 'queued', $5, $6, now() - interval '1 minute')",
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), STALLED, sid,
    )  # fmt: skip
    return sid


@pytest.mark.parametrize(
    ("status", "cancel_error", "outcome"),
    [
        ("sent", False, "left"),  # cancel "accepted" but the message had left: lost the race
        ("sent", True, "left"),  # refused because it is already sending
        (None, False, "unknown"),  # cannot tell: ask again later, never resend blind
        ("canceled", False, "rerouted"),
    ],
)
async def test_only_a_confirmed_cancel_reroutes(
    pool: asyncpg.Pool[Any], status: str | None, cancel_error: bool, outcome: str
) -> None:
    sid = await _stuck_row(pool)
    gateway = ScriptedGateway(status=status, cancel_error=cancel_error)
    counts, again = await unstick_once(pool=pool, gateway=gateway, after_s=30.0)
    assert gateway.cancelled == [sid]
    assert counts[outcome] == 1 and sum(counts.values()) == 1
    row = await pool.fetchrow("SELECT * FROM deliveries")
    if outcome == "rerouted":
        assert [i.id for i in again] == [row["id"]]
        assert (row["state"], row["provider_sid"], row["avoid_sender"]) == (
            "pending", None, STALLED
        )
        assert row["cancelled_sids"] == [sid]
    else:
        assert again == [] and row["state"] == "submitted" and row["provider_sid"] == sid
        assert row["status"] == ("sent" if status == "sent" else "queued")
