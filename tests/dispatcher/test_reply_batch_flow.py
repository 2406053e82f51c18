"""A flood of replies on the real broker and database: staffed once, stand-downs once, and a
redelivered poll changes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher import consumers, responses
from baiying_dispatcher.outbound import CHANGES_CHANNEL
from baiying_dispatcher.queries import coverage_of
from baiying_shared.events import replies
from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued, CalloutStoodDown
from baiying_shared.events.envelope import encode, wrap
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.kafka.consumer import Message
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_mobilisation import _status, incident_body, issued_n, raise_incident
from tests.support import eventually


def _accept(issued: CalloutIssued) -> VolunteerReplied:
    return VolunteerReplied(
        callout_id=issued.callout_id, incident_id=issued.incident_id,
        volunteer_id=issued.volunteer_id, action="accept", channel="sms",
        received_at=datetime.now(UTC),
    )


async def _called(system: System, n: int, need: int) -> tuple[str, list[CalloutIssued]]:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 100 * (i + 1)) for i in range(n)])
    inc = await raise_incident(system, incident_body(area, need={"total": need}))
    return inc["id"], await issued_n(system, inc["id"], n)


async def test_a_flood_of_accepts_through_the_broker_staffs_once(system: System) -> None:
    incident_id, issued = await _called(system, 6, need=3)  # over-call 2: all six called
    envs = [wrap(_accept(i), producer="test") for i in issued]
    topic = system.settings.topic(replies.TOPIC)
    # All at once, one of them twice: the consumer gets them in few polls.
    sent = [await system.producer.send(topic, value=encode(e), key=str(e.payload.callout_id)
                                       .encode()) for e in [*envs, envs[0]]]
    await asyncio.gather(*sent)
    await eventually(lambda: _status(system, incident_id, "staffed"), what="staffed")
    stood = await eventually(
        lambda: _n(system.tap.of(CalloutStoodDown, incident_id), 3), what="stand-downs")
    confirmed = system.tap.of(CalloutConfirmed, incident_id)
    assert len({c.callout_id for c in confirmed}) == len(confirmed) == 3
    assert {s.reason for s in stood} == {"staffed"} and len(stood) == 3
    assert {s.callout_id for s in stood}.isdisjoint(c.callout_id for c in confirmed)
    states = await system.pool.fetch(
        "SELECT state, count(*) AS n FROM callouts WHERE incident_id = $1 GROUP BY state",
        incident_id)
    assert {r["state"]: r["n"] for r in states} == {"accepted": 3, "stood_down": 3}


async def _n(items: list[Any], n: int) -> list[Any] | None:
    return items if len(items) >= n else None


async def test_a_redelivered_poll_changes_nothing_and_notices_carry_the_coverage(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id, issued = await _called(system, 4, need=2)
    envs = [wrap(_accept(i), producer="test") for i in issued[:3]]
    poll = [Message(replies.TOPIC, 0, n, str(e.payload.callout_id), e)
            for n, e in enumerate([*envs, envs[1]])]
    notices: list[dict[str, Any]] = []
    listener = await asyncpg.connect(system.settings.database_url.get_secret_value())
    await listener.add_listener(CHANGES_CHANNEL, lambda *a: notices.append(json.loads(a[-1])))
    try:
        deps = consumers.Deps(system.pool, system.settings)
        await consumers.on_responses(deps, poll)
        mine = await eventually(lambda: _mine(notices, incident_id), what="the batch's notices")
    finally:
        await listener.close()
    async with system.pool.acquire() as conn:
        now = (await coverage_of(conn, [incident_id]))[incident_id].as_dict()
    assert mine[-1]["coverage"] == now  # computed from the aggregate, as the query reads it
    # The first accept stamped first_accept_at, the second staffed it; the third is too late.
    assert [n["status"] for n in mine if n["type"] == "incident"] == ["mobilising", "staffed"]
    before = await _rows(system, incident_id)
    assert [r["state"] for r in before].count("accepted") == 2

    applied: list[object] = []

    async def spy(*_: object, **kw: object) -> None:
        applied.append(kw)

    monkeypatch.setattr(responses, "on_replies", spy)
    await consumers.on_responses(deps, poll)  # the same poll again, after a crash say
    assert applied == [] and await _rows(system, incident_id) == before


async def _mine(notices: list[dict[str, Any]], incident_id: str) -> list[dict[str, Any]] | None:
    mine = [n for n in notices if n["incident_id"] == incident_id]
    staffed = any(n["type"] == "incident" and n["status"] == "staffed" for n in mine)
    return mine if staffed else None  # the last notice the batch queued


async def _rows(system: System, incident_id: str) -> list[asyncpg.Record]:
    return await system.pool.fetch(
        "SELECT id, state, accepted_at FROM callouts WHERE incident_id = $1 ORDER BY rank",
        incident_id)
