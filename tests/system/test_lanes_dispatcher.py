"""Lanes through the dispatcher, with the real broker and PostgreSQL.

An advisory's call-outs leave in the bulk lane on dispatch.callouts.bulk.v1; its statuses come
back on notify.deliveries.bulk.v1 to a consumer of their own (a poll in one transaction, each
status applied once). While that consumer is held (its inbox claims wait on a transaction of
the test's), a reply to a call-out still staffs it: a reply never queues behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_dispatcher.consumers import CONSUMER
from baiying_shared.events import callouts
from baiying_shared.events.catalogue import BULK, DELIVERIES_BULK
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import Envelope, encode, wrap
from tests.dispatcher.conftest import System, system
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import (
    _status,
    detail,
    incident_body,
    issued_n,
    raise_incident,
)
from tests.support import eventually
from tests.system.test_lanes import claims_held

__all__ = ["system"]  # the module's running dispatcher, imported for these tests


async def _advisory(s: System, people: int) -> tuple[dict[str, Any], list[asyncpg.Record]]:
    area = fresh_area()
    await s.add_volunteers([volunteer(area, 100 + 50 * i, on_duty=False) for i in range(people)])
    body = incident_body(area, kind="advisory", need=None, radius_m=2000, title="防范电信诈骗",
                         advice="不转账、不透露验证码。")
    inc = await raise_incident(s, body)
    rows = await s.pool.fetch("SELECT id, incident_id, volunteer_id FROM callouts"
                              " WHERE incident_id = $1::uuid", inc["id"])
    assert len(rows) == people
    return inc, list(rows)


def _status_of(row: asyncpg.Record, status: str) -> Envelope[Any]:
    payload = DeliveryStatusChanged(
        callout_id=row["id"], incident_id=row["incident_id"], volunteer_id=row["volunteer_id"],
        channel="sms", message="alert", status=status, at=datetime.now(UTC),  # type: ignore[arg-type]
    )
    return wrap(payload, producer="notifier")


async def _publish(s: System, envs: list[Envelope[Any]]) -> None:
    for env in envs:  # keyed by call-out, as the notifier's relay does
        await s.producer.send_and_wait(s.settings.topic(DELIVERIES_BULK), value=encode(env),
                                       key=str(env.payload.callout_id).encode())


async def test_an_advisory_leaves_in_the_bulk_lane_and_its_statuses_count_once(
    system: System,
) -> None:
    inc, rows = await _advisory(system, 3)
    out = await system.pool.fetch(
        "SELECT DISTINCT topic, lane FROM outbox WHERE key = ANY($1::text[])",
        [str(r["volunteer_id"]) for r in rows])
    assert [tuple(r) for r in out] == [(callouts.BULK_TOPIC, BULK)]
    delivered = [_status_of(r, "delivered") for r in rows]
    await _publish(system, [*delivered, delivered[0]])  # and a redelivered copy

    async def counted() -> dict[str, Any] | None:
        got = await detail(system, inc["id"])
        return got if got["deliveries"].get("delivered") == len(rows) else None

    got = await eventually(counted, what="the advisory's statuses applied")
    assert got["deliveries"] == {"delivered": 3}
    claimed = await system.pool.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::uuid[])",
        [e.event_id for e in delivered])
    assert claimed == len(rows)


async def test_a_reply_staffs_its_callout_while_an_advisorys_statuses_are_held(
    system: System,
) -> None:
    _, rows = await _advisory(system, 20)
    held = [_status_of(r, status) for r in rows for status in ("sent", "delivered")]
    url = system.settings.database_url.get_secret_value()
    async with claims_held(system.pool, url, schema="dispatcher", consumer=CONSUMER,
                           event_ids=[e.event_id for e in held]) as waiting:
        await _publish(system, held)
        await eventually(waiting, timeout=60,
                         what="the bulk statuses consumer waiting on their claims")
        area = fresh_area()
        await system.add_volunteers([volunteer(area, 100)])
        inc = await raise_incident(system, incident_body(area, need={"total": 1}))
        [call] = await issued_n(system, inc["id"], 1)
        await reply(system.producer, system.settings, call, "accept")
        await eventually(lambda: _status(system, inc["id"], "staffed"), timeout=60,
                         what="staffed while the advisory's statuses are held")
        assert await _applied(system, rows) == 0, "the held statuses were applied"
    await eventually(lambda: _all_delivered(system, rows), timeout=60, what="held ones applied")


async def _applied(s: System, rows: list[asyncpg.Record]) -> int:
    return int(await s.pool.fetchval(
        "SELECT count(*) FROM callouts WHERE id = ANY($1::uuid[]) AND delivery_status IS NOT NULL",
        [r["id"] for r in rows]))


async def _all_delivered(s: System, rows: list[asyncpg.Record]) -> bool:
    return bool(await s.pool.fetchval(
        "SELECT count(*) = $2 FROM callouts WHERE id = ANY($1::uuid[])"
        " AND delivery_status = 'delivered'", [r["id"] for r in rows], len(rows)))

