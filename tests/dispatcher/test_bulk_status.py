"""The bulk lane's statuses applied set-based: the same rows and notices as one by one, a
redelivered poll changes nothing, and a status that cannot be applied rolls the poll back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher import consumers, outbound, responses
from baiying_shared.events.callouts import CalloutIssued
from baiying_shared.events.catalogue import DELIVERIES_BULK
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import wrap
from baiying_shared.kafka.consumer import Message
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n, raise_incident

T = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _status(c: CalloutIssued, status: str, n: int, *, message: str = "alert",
            error: int | None = None, callout_id: uuid.UUID | None = None
            ) -> DeliveryStatusChanged:
    return DeliveryStatusChanged(
        callout_id=callout_id or c.callout_id, incident_id=c.incident_id,
        volunteer_id=c.volunteer_id, channel="sms", message=message,  # type: ignore[arg-type]
        status=status, error_code=error, at=T + timedelta(seconds=n),  # type: ignore[arg-type]
    )


async def _incidents(system: System) -> tuple[list[CalloutIssued], list[CalloutIssued]]:
    """An advisory to three people and a call-out to two, in one fresh area each."""
    here, there = fresh_area(), fresh_area()
    await system.add_volunteers([volunteer(here, d) for d in (100, 200, 300)]
                                + [volunteer(there, d) for d in (100, 200)])
    adv = await raise_incident(system, incident_body(here, kind="advisory", need=None,
                                                     radius_m=1000, advice="关好门窗"))
    call = await raise_incident(system, incident_body(there, need={"total": 1}))
    return await issued_n(system, adv["id"], 3), await issued_n(system, call["id"], 2)


def _mixed(adv: list[CalloutIssued], call: list[CalloutIssued]) -> list[DeliveryStatusChanged]:
    a, b, c = adv
    return [
        _status(a, "sent", 1), _status(a, "delivered", 2), _status(a, "sent", 3),  # late sent
        _status(b, "failed", 4, error=30003), _status(b, "delivered", 5),  # after a failure
        _status(c, "delivered", 6, message="confirmation"),  # not the alert: no move
        _status(c, "sent", 7),
        _status(a, "sent", 8, callout_id=uuid.uuid4()),  # unknown call-out
        _status(call[0], "delivered", 9), _status(call[1], "failed", 10, error=30005),
    ]


Apply = Callable[["asyncpg.Connection[Any]", list[DeliveryStatusChanged]], Awaitable[None]]


async def _one_by_one(conn: asyncpg.Connection[Any], events: list[DeliveryStatusChanged],
                      system: System) -> None:
    for e in events:
        await responses.on_delivery(conn, settings=system.settings, event=e)


async def _outcome(system: System, ids: list[str], events: list[DeliveryStatusChanged],
                   apply: Apply, monkeypatch: pytest.MonkeyPatch
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and notices after `apply`, rolled back so the next apply starts from the same."""
    notices: list[str] = []
    real = outbound.notify

    async def spy(conn: asyncpg.Connection[Any], batch: Any, **kw: Any) -> None:
        notices.extend(json.dumps(n, sort_keys=True, default=str) for n in batch)
        await real(conn, batch, **kw)

    monkeypatch.setattr(outbound, "notify", spy)
    async with system.pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await apply(conn, events)
            rows = await conn.fetch(
                "SELECT id, state, delivery_status, delivery_error, delivered_at"
                " FROM callouts WHERE incident_id = ANY($1::uuid[]) ORDER BY id",
                [uuid.UUID(i) for i in ids])
        finally:
            await tr.rollback()
    return [dict(r) for r in rows], sorted(notices)


async def test_a_mixed_poll_set_based_equals_one_by_one(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    adv, call = await _incidents(system)
    ids = [str(adv[0].incident_id), str(call[0].incident_id)]
    events = _mixed(adv, call)
    single = await _outcome(system, ids, events,
                            lambda c, e: _one_by_one(c, e, system), monkeypatch)
    batched = await _outcome(
        system, ids, events,
        lambda c, e: responses.on_bulk_statuses(c, settings=system.settings, events=e),
        monkeypatch)
    assert batched == single
    rows, notices = batched
    assert {r["delivery_status"] for r in rows} == {"delivered", "failed", "sent"}
    assert len(notices) >= 5  # a: sent, delivered; b: failed; c: sent; the call-out's


def _poll(events: list[DeliveryStatusChanged]) -> list[Message]:
    envs = [wrap(e, producer="test") for e in events]
    return [Message(DELIVERIES_BULK, 0, n, str(e.payload.callout_id), e)
            for n, e in enumerate([*envs, envs[0]])]  # one of them twice


async def _rows(system: System, incident_id: uuid.UUID) -> list[asyncpg.Record]:
    return await system.pool.fetch(
        "SELECT id, state, delivery_status, delivery_error, delivered_at, updated_at"
        " FROM callouts WHERE incident_id = $1 ORDER BY id", incident_id)


async def test_a_redelivered_poll_changes_nothing(system: System) -> None:
    adv, call = await _incidents(system)
    poll = _poll(_mixed(adv, call))
    deps = consumers.Deps(system.pool, system.settings)
    await consumers.on_bulk_deliveries(deps, poll)
    before = await _rows(system, adv[0].incident_id)
    assert [r["state"] for r in before].count("delivered") == 1
    await consumers.on_bulk_deliveries(deps, poll)  # after a crash before the commit, say
    assert await _rows(system, adv[0].incident_id) == before  # updated_at too: not written


async def test_a_poison_status_rolls_the_whole_poll_back_for_the_dead_letters(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    adv, call = await _incidents(system)
    poll = _poll(_mixed(adv, call))
    deps = consumers.Deps(system.pool, system.settings)
    before = await _rows(system, adv[0].incident_id)

    async def poison(*_: object, **__: object) -> None:
        raise ValueError("a status the handler cannot apply")

    monkeypatch.setattr(responses, "on_deliveries", poison)  # the call-out's part fails
    with pytest.raises(ValueError):  # EventConsumer dead-letters what its handler raises
        await consumers.on_bulk_deliveries(deps, poll)
    assert await _rows(system, adv[0].incident_id) == before  # the advisory's part too
    monkeypatch.undo()
    await consumers.on_bulk_deliveries(deps, poll)  # claims were rolled back: applied now
    after = await _rows(system, adv[0].incident_id)
    assert [r["state"] for r in after].count("delivered") == 1
