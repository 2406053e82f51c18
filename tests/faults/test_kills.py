"""Service processes SIGKILLed at the worst moment, restarted: every message exactly once."""

from __future__ import annotations

import asyncpg
import pytest

from tests.faults.crowd import add_crowd, callout, indexed, raise_incident, sent_count
from tests.faults.infra import PrivateInfra
from tests.faults.scenes import fanout_under_way, served_once
from tests.support import eventually
from tests.system.harness import System

pytestmark = pytest.mark.faults

# Each test works at a place of its own, tens of kilometres from the others.
NOTIFIER_PLACE = (25.40, 114.50)
DISPATCHER_PLACE = (25.55, 114.70)


async def test_notifier_sigkilled_mid_fanout(system: System) -> None:
    scene = await fanout_under_way(system, crowd=400, near=NOTIFIER_PLACE, sent=60)
    await system.kill("notifier")
    at_kill = await sent_count(system, scene.crowd)
    assert at_kill < len(scene.crowd), "the kill must land mid-fan-out"

    await system.restart("notifier")
    await served_once(system, scene.crowd, what="every recipient served after the restart",
                      context=f"{at_kill} sent at the kill")


async def _outbox_unpublished(system: System, incident_id: str) -> int:
    conn = await asyncpg.connect(system.database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM dispatcher.outbox WHERE published_at IS NULL"
            " AND topic LIKE '%dispatch.callouts.v1' AND value IS NOT NULL"
            " AND convert_from(value, 'UTF8') LIKE '%' || $1 || '%'", incident_id))
    finally:
        await conn.close()


async def test_dispatcher_sigkilled_between_commit_and_publish(
    system: System, private_infra: PrivateInfra
) -> None:
    phones = await add_crowd(system, 60, near=DISPATCHER_PLACE)
    await eventually(lambda: indexed(system, phones), timeout=60, what="crowd indexed")
    # A frozen broker holds the relay between the commit and the publish, for certain.
    private_infra.kafka_freeze()
    try:
        raised = await raise_incident(system, callout(DISPATCHER_PLACE, need=20, radius_m=2500))
        assert raised["called"] == 40, raised
        unpublished = await _outbox_unpublished(system, raised["id"])
        before_kill = await sent_count(system, phones)
        await system.kill("dispatcher")
    finally:
        # A produce request already in the broker's socket may still land now: the restarted
        # relay then publishes those call-outs a second time, which must not double an SMS.
        private_infra.kafka_thaw()
    assert unpublished == 40, "the call-outs must be committed and not yet published"
    assert before_kill == 0

    await system.restart("dispatcher")
    await served_once(system, phones, 40, what="every call-out delivered after the restart")
