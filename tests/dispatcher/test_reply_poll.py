"""A poll of replies is one transaction: its inbox claims and the unit of work that applies
them commit or roll back together, without a savepoint between them (two round trips less
on the reply path), and a reply that staffs an incident writes its row once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher import consumers, outbound
from baiying_shared.events import replies
from baiying_shared.events.envelope import wrap
from baiying_shared.kafka.consumer import Message
from tests.dispatcher.conftest import System
from tests.dispatcher.test_mobilisation import _status
from tests.dispatcher.test_reply_batch_flow import _accept, _called, _rows


class _OneConnection:
    """A pool of the one connection under watch, so the test sees every statement it runs."""

    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection[Any]]:
        yield self._conn


async def test_a_reply_poll_is_applied_in_its_claims_transaction_without_a_savepoint(
    system: System,
) -> None:
    incident_id, issued = await _called(system, 2, need=1)
    poll = [Message(replies.TOPIC, 0, 0, str(issued[0].callout_id),
                    wrap(_accept(issued[0]), producer="test"))]
    statements: list[str] = []
    async with system.pool.acquire() as conn:
        conn.add_query_logger(lambda q: statements.append(q.query))
        deps: Any = consumers.Deps(_OneConnection(conn), system.settings)
        await consumers.on_responses(deps, poll)
    assert await _status(system, incident_id, "staffed")
    assert [s for s in statements if s.upper().startswith(("SAVEPOINT", "RELEASE"))] == []
    assert [s for s in statements if s.upper().startswith("BEGIN")] == ["BEGIN;"]
    # The reply both stamped first_accept_at and staffed it: one UPDATE of the incident.
    assert len([s for s in statements if s.startswith("UPDATE incidents")]) == 1
    row = await system.pool.fetchrow(
        "SELECT first_accept_at, staffed_at FROM incidents WHERE id = $1", incident_id)
    assert row is not None and row["first_accept_at"] and row["staffed_at"]


async def test_a_failing_reply_poll_rolls_back_its_claims_and_applies_in_full_again(
    system: System, monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident_id, issued = await _called(system, 2, need=1)
    poll = [Message(replies.TOPIC, 0, 0, str(issued[0].callout_id),
                    wrap(_accept(issued[0]), producer="test"))]
    deps = consumers.Deps(system.pool, system.settings)
    before = await _rows(system, incident_id)
    real = outbound.notify

    async def broken(*_: Any, **__: Any) -> None:  # after the call-outs' rows are written
        raise RuntimeError("the outbox is gone")

    monkeypatch.setattr(outbound, "notify", broken)
    with pytest.raises(RuntimeError):
        await consumers.on_responses(deps, poll)
    assert await _rows(system, incident_id) == before  # the unit of work's writes too
    monkeypatch.setattr(outbound, "notify", real)
    await consumers.on_responses(deps, poll)  # the claim went with them: applied now
    assert await _status(system, incident_id, "staffed")
