"""Batch intake on the real database: one transaction per poll, in order, once, announced."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from baiying_notifier import intake
from baiying_notifier.domain.keywords import short_code
from baiying_notifier.queueing import NOTIFY_MAX_BYTES, seq_payloads
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.callouts import (
    TOPIC,
    CalloutConfirmed,
    CalloutIssued,
    CalloutStoodDown,
)
from baiying_shared.events.envelope import Envelope, Payload, decode, wrap
from baiying_shared.kafka.consumer import Message
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import issued
from tests.support import eventually


@dataclass
class Db:
    pool: asyncpg.Pool[Any]
    heard: dict[str, list[str]] = field(default_factory=lambda: {"deliveries": [], "app": []})

    async def rows(self, callout: CalloutIssued) -> dict[tuple[str, str], str]:
        """{(message, channel): state} of one call-out's deliveries."""
        rows = await self.pool.fetch(
            "SELECT message, channel, state FROM deliveries WHERE callout_id = $1",
            callout.callout_id,
        )
        return {(r["message"], r["channel"]): r["state"] for r in rows}

    def announced(self) -> set[int]:
        return {int(s) for p in self.heard["deliveries"] for s in p.split(",")}


@pytest.fixture
async def db(common_settings: CommonSettings, unique: str) -> AsyncIterator[Db]:
    """A notifier schema of this test's own, and a connection LISTENing as the sender does."""
    schema = f"ni_{unique}"
    await migrate(common_settings.database_url.get_secret_value(), schema=schema,
                  package="baiying_notifier")  # fmt: skip
    pool = await create_pool(common_settings, schema=schema)
    got = Db(pool)
    listener = await pool.acquire()
    callbacks = {
        f"notifier_{k}": lambda _c, _p, _ch, msg, k=k: got.heard[k].append(msg) for k in got.heard
    }
    for channel, callback in callbacks.items():
        await listener.add_listener(channel, callback)
    try:
        yield got
    finally:
        for channel, callback in callbacks.items():
            await listener.remove_listener(channel, callback)
        await pool.release(listener)
        await pool.close()


def msgs(*payloads: Payload, envelopes: list[Envelope[Any]] | None = None) -> list[Message]:
    envs = envelopes or [wrap(p, producer="dispatcher") for p in payloads]
    return [Message(TOPIC, 0, n, str(e.payload.volunteer_id), e) for n, e in enumerate(envs)]


def stand_down(alert: CalloutIssued, reason: str = "staffed") -> CalloutStoodDown:
    return CalloutStoodDown(
        **_addressed(alert),
        reason=reason,  # type: ignore[arg-type]
        title=alert.title,
    )


def confirmed(alert: CalloutIssued) -> CalloutConfirmed:
    return CalloutConfirmed(
        **_addressed(alert),
        title=alert.title,
        address="章贡区文清路88号",
        lat=25.85,
        lon=114.93,
        contact="王警官 0797-1234567",
    )


def _addressed(alert: CalloutIssued) -> dict[str, Any]:
    names = ("callout_id", "incident_id", "volunteer_id", "phone", "channels", "language")
    return {n: getattr(alert, n) for n in names}


async def test_a_stand_down_after_its_alert_in_the_same_poll_cancels_it(db: Db) -> None:
    kept, dropped = issued(phone="+8613700000001"), issued(phone="+8613700000002")
    await intake.on_batch(db.pool, msgs(kept, dropped, stand_down(dropped)))
    assert await db.rows(kept) == {("alert", "sms"): "pending"}
    assert await db.rows(dropped) == {("alert", "sms"): "cancelled"}, "no stand-down SMS either"
    state = await db.pool.fetchval(
        "SELECT state FROM callouts WHERE callout_id = $1", dropped.callout_id
    )
    assert state == "stood_down"


async def test_a_stand_down_for_an_alert_already_sent_queues_a_stand_down_sms(db: Db) -> None:
    alert = issued(phone="+8613700000003")
    await intake.on_batch(db.pool, msgs(alert))
    await db.pool.execute(
        "UPDATE deliveries SET state = 'submitted' WHERE callout_id = $1", alert.callout_id
    )
    await intake.on_batch(db.pool, msgs(stand_down(alert)))
    assert await db.rows(alert) == {("alert", "sms"): "submitted", ("stand_down", "sms"): "pending"}
    body = await db.pool.fetchval(
        "SELECT body FROM deliveries WHERE callout_id = $1 AND message = 'stand_down'",
        alert.callout_id,
    )
    assert "无需前往" in body


async def test_a_redelivered_poll_and_copies_within_one_queue_nothing_twice(db: Db) -> None:
    alerts = [issued(phone=f"+861370000010{i}") for i in range(3)]
    envs = [wrap(a, producer="dispatcher") for a in alerts]
    # a re-published copy of the first event inside the same poll
    await intake.on_batch(db.pool, msgs(envelopes=[envs[0], envs[1], envs[0], envs[2]]))
    await intake.on_batch(db.pool, msgs(envelopes=envs))  # the whole poll again
    rows = await db.pool.fetch("SELECT callout_id, message FROM deliveries")
    assert sorted(r["callout_id"] for r in rows) == sorted(a.callout_id for a in alerts)
    claimed = await db.pool.fetchval("SELECT count(*) FROM processed_events")
    assert claimed == 3


async def test_the_claim_records_each_first_alert_once_as_it_was_issued(db: Db) -> None:
    """The callouts row rides on the inbox claim: made for a claimed alert, whole, once."""
    alert = issued(phone="+8613700000111", channels=("sms", "app"))
    first = wrap(alert, producer="dispatcher")
    await intake.on_batch(db.pool, msgs(envelopes=[first]))
    again = wrap(alert.model_copy(update={"title": "changed"}), producer="dispatcher")
    await intake.on_batch(db.pool, msgs(envelopes=[first, again]))  # redelivered + re-issued
    [row] = await db.pool.fetch("SELECT * FROM callouts")
    code = short_code(alert.callout_id.hex)
    assert (row["callout_id"], row["incident_id"], row["volunteer_id"], row["phone"],
            row["kind"], row["language"], row["channels"], row["code"]) == (
        alert.callout_id, alert.incident_id, alert.volunteer_id, alert.phone, alert.kind,
        alert.language, ["sms", "app"], code)  # fmt: skip
    assert row["alert"] == intake.alert_view(alert, code), "the first copy's view, as a dict"
    assert await db.pool.fetchval("SELECT count(*) FROM processed_events") == 2


async def test_opted_out_numbers_are_suppressed_and_reported(db: Db) -> None:
    out, ok = issued(phone="+8613700000201"), issued(phone="+8613700000202")
    await db.pool.execute(
        "INSERT INTO opt_outs (phone, opted_out, keyword) VALUES ($1, true, 'TD')", out.phone
    )
    envs = [wrap(p, producer="dispatcher") for p in (out, ok)]
    await intake.on_batch(db.pool, msgs(envelopes=envs))
    assert await db.rows(out) == {("alert", "sms"): "suppressed"}
    assert await db.rows(ok) == {("alert", "sms"): "pending"}
    [value] = await db.pool.fetch("SELECT value FROM outbox")
    status = decode(value["value"])
    p = status.payload
    assert (p.callout_id, p.status, p.error_code) == (out.callout_id, "failed", 21610)
    assert status.trace_id == envs[0].trace_id, "the call-out's trace carries on"


async def test_pending_rows_are_announced_after_commit_within_the_payload_limit(db: Db) -> None:
    await db.pool.execute("SELECT setval(pg_get_serial_sequence('deliveries', 'seq'), 1000000000)")
    alerts = [issued(phone=f"+86137{i:08d}", rank=i) for i in range(1500)]
    await intake.on_batch(db.pool, msgs(*alerts))
    seqs = {r["seq"] for r in await db.pool.fetch("SELECT seq FROM deliveries")}
    assert len(seqs) == 1500

    async def all_heard() -> bool:
        return db.announced() == seqs

    await eventually(all_heard, what="every new row's seq announced")
    assert len(db.heard["deliveries"]) > 1, "1,500 seqs of 10 digits do not fit one payload"
    assert all(len(p.encode()) < NOTIFY_MAX_BYTES for p in db.heard["deliveries"])


async def test_nothing_is_announced_or_pushed_when_the_poll_fails(db: Db) -> None:
    alert = issued(phone="+8613700000301", channels=("sms", "app"))
    broken = wrap(alert, producer="dispatcher")
    # the SMS insert fails (after the inbox claim and the app row): the poll must leave nothing
    await db.pool.execute(
        "ALTER TABLE deliveries ADD CONSTRAINT short_body CHECK (length(body) < 5)"
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await intake.on_batch(db.pool, msgs(envelopes=[broken]))
    assert await db.rows(alert) == {}
    assert await db.pool.fetchval("SELECT count(*) FROM processed_events") == 0
    await db.pool.execute("ALTER TABLE deliveries DROP CONSTRAINT short_body")
    await intake.on_batch(db.pool, msgs(envelopes=[broken]))  # the retry does it all
    assert await db.rows(alert) == {("alert", "sms"): "pending", ("alert", "app"): "sent"}
    await eventually(lambda: _now(db.heard["app"] and db.heard["deliveries"]), what="pushes")
    assert len(db.heard["app"]) == 1 and len(db.heard["deliveries"]) == 1


async def test_alert_confirmation_and_stand_down_in_one_poll_keep_their_order(db: Db) -> None:
    alert = issued(phone="+8613700000401", channels=("sms", "app"))
    await intake.on_batch(db.pool, msgs(alert))
    await db.pool.execute(
        "UPDATE deliveries SET state = 'submitted' WHERE callout_id = $1 AND channel = 'sms'",
        alert.callout_id,
    )
    other = issued(phone="+8613700000402", channels=("app",))
    await intake.on_batch(db.pool, msgs(confirmed(alert), other, stand_down(alert, "closed")))
    assert await db.rows(alert) == {
        ("alert", "sms"): "submitted",
        ("alert", "app"): "sent",
        ("confirmation", "sms"): "pending",
        ("confirmation", "app"): "sent",
        ("stand_down", "sms"): "pending",
        ("stand_down", "app"): "sent",
    }

    async def pushes() -> list[str]:
        return [p for p in db.heard["app"] if str(alert.volunteer_id) in p]

    await eventually(lambda: _now(len(db.heard["app"]) == 4), what="four app pushes")
    kinds = [json.loads(p)["event"]["type"] for p in await pushes()]
    assert kinds == ["alert", "confirmed", "stood_down"]


def test_seq_payloads_split_under_the_limit() -> None:
    seqs = list(range(10**9, 10**9 + 2000))
    payloads = list(seq_payloads(seqs, limit=100))
    assert all(len(p) < 100 for p in payloads)
    assert [int(s) for p in payloads for s in p.split(",")] == seqs
    assert list(seq_payloads([])) == []


async def _now(value: Any) -> Any:
    await asyncio.sleep(0)
    return value
