"""The status sweep: final statuses whose callbacks never came are fetched by SID and published.

End to end on the real broker and database, with the sandbox over HTTP through the twilio
library; the bounds of one pass on a schema of the test's own with a counting gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from twilio.request_validator import RequestValidator

from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import Capabilities, OutboundSms, SentMessage, Submitted
from baiying_notifier.reconcile import sweep_statuses
from baiying_sandbox.config import SandboxSettings
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events import deliveries
from baiying_shared.events.contacts import ContactFlagged
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import decode
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import System, issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
SWEEP = {"status_sweep_after_s": 1.0}  # the fixture reconciles every 0.5 s


async def _published(s: System, p: Any, status: str) -> list[DeliveryStatusChanged]:
    return s.tap.of(DeliveryStatusChanged, callout_id=p.callout_id, status=status)


async def test_a_lost_delivered_callback_is_published_by_the_sweep(
    notifier_settings: Factory,
) -> None:
    # The provider reports queued and sent, then never says "delivered" (we were down).
    sandbox = SandboxSettings(mps=0, callback_delay_ms=5, callback_statuses=("queued", "sent"))
    async with system(notifier_settings, sandbox=sandbox, **SWEEP) as s:
        p = issued(phone="+8613900700001")
        await s.dispatcher.publish(p)
        await s.wait_received([p.phone])
        [msg] = s.sandbox.received(p.phone)
        [delivered] = await eventually(
            lambda: _published(s, p, "delivered"), what="delivered published by the sweep"
        )
        assert delivered.provider_sid == msg.sid and delivered.error_code is None
        assert (
            await s.pool.fetchval("SELECT status FROM deliveries WHERE provider_sid = $1", msg.sid)
            == "delivered"
        )

        # The real callbacks turning up late change nothing: each status is published once.
        for status in ("delivered", "sent"):
            assert await _late_callback(s, msg, status) == 204
        assert await _outbox_statuses(s, p.callout_id) == ["queued", "sent", "delivered"]


async def test_a_carrier_failure_without_callbacks_is_published_with_its_code(
    notifier_settings: Factory,
) -> None:
    # 30003 (unreachable) is not refused at create: the sandbox reports it later, and with no
    # callbacks at all only the sweep can tell. A failed alert frees the slot for the next.
    phone = "+8613900700003"
    sandbox = SandboxSettings(mps=0, callback_statuses=(), failing_numbers={phone: 30003})
    async with system(notifier_settings, sandbox=sandbox, **SWEEP) as s:
        p = issued(phone=phone)
        await s.dispatcher.publish(p)
        await s.wait_received([phone])
        [failed] = await eventually(
            lambda: _published(s, p, "undelivered"), what="undelivered published by the sweep"
        )
        assert failed.error_code == 30003
        assert failed.provider_sid == s.sandbox.received(phone)[0].sid

        async def flagged() -> list[ContactFlagged]:
            return s.tap.of(ContactFlagged, phone=phone)

        [flag] = await eventually(flagged, what="number flagged")
        assert flag.error_code == 30003


async def _late_callback(s: System, msg: Any, status: str) -> int:
    """What the sandbox would have posted, signed the same way, arriving after the sweep."""
    params = {"MessageSid": msg.sid, "MessageStatus": status, "To": msg.to, "From": msg.from_}
    token = s.settings.twilio_auth_token.get_secret_value()
    signature = RequestValidator(token).compute_signature(msg.status_callback, params)
    async with httpx.AsyncClient() as client:
        r = await client.post(
            msg.status_callback, data=params, headers={"X-Twilio-Signature": signature}
        )
    return r.status_code


async def _outbox_statuses(s: System, callout_id: Any) -> list[str]:
    """Every DeliveryStatusChanged queued for the call-out (published or not), in order."""
    rows = await s.pool.fetch(
        "SELECT value FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id",
        deliveries.TOPIC,  # unprefixed: the relay adds the prefix
        str(callout_id),
    )
    payloads = [decode(r["value"]).payload for r in rows]
    return [p.status for p in payloads if isinstance(p, DeliveryStatusChanged)]


# --- one pass's bounds, on a schema of this test's own ---------------------------------------


class CountingGateway:
    """Answers every fetch with "sent" (never final) and remembers what it was asked."""

    capabilities = Capabilities(
        supports_status_callback=True, supports_lookup=True, supports_fetch=True
    )

    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def send(self, sms: OutboundSms) -> Submitted:
        raise AssertionError("the sweep never sends")

    async def recent_to(self, *, to: str, since: datetime) -> list[SentMessage]:
        raise AssertionError("the sweep never lists")

    async def fetch(self, sid: str) -> SentMessage:
        self.fetched.append(sid)
        return SentMessage(sid, "+8613900000000", "", "sent", None, None)

    async def close(self) -> None:
        pass


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    schema = f"ns_{unique}"
    dsn = common_settings.database_url.get_secret_value()
    await migrate(dsn, schema=schema, package="baiying_notifier")
    pool = await create_pool(common_settings, schema=schema)
    try:
        yield pool
    finally:
        await pool.close()


async def _submitted(pool: asyncpg.Pool[Any], sid: str, *, age: str, status: str) -> None:
    await pool.execute(
        "INSERT INTO deliveries (id, callout_id, incident_id, volunteer_id, channel, message,"
        " priority, phone, body, state, status, provider_sid, claimed_at, created_at)"
        " VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),"
        " 'sms', 'alert', 1, '+8613900000000', 'x', 'submitted', $2, $1,"
        " now() - $3::text::interval, now() - $3::text::interval)",
        sid,
        status,
        age,
    )


async def test_a_pass_is_bounded_oldest_first_and_gives_up_on_old_rows(
    pool: asyncpg.Pool[Any],
) -> None:
    for sid, age, status in [
        ("SMa", "10 minutes", "queued"),
        ("SMb", "5 minutes", "sent"),
        ("SMc", "2 minutes", "queued"),
        ("SMtoo_young", "1 second", "queued"),
        ("SMfinal", "10 minutes", "delivered"),
        ("SMtoo_old", "2 days", "queued"),
    ]:
        await _submitted(pool, sid, age=age, status=status)
    gateway = CountingGateway()

    async def sweep() -> dict[str, int]:
        outcome: dict[str, int] = await sweep_statuses(
            pool=pool, gateway=gateway, after_s=60, max_age_s=86400, limit=2
        )
        return outcome

    assert await sweep() == {"updated": 1, "unchanged": 1, "error": 0}  # queued -> sent is news
    assert gateway.fetched == ["SMa", "SMb"]
    await sweep()  # those two were just looked at: the next pass moves on
    assert gateway.fetched == ["SMa", "SMb", "SMc"]
    assert await sweep() == {"updated": 0, "unchanged": 0, "error": 0}
    assert gateway.fetched == ["SMa", "SMb", "SMc"]
