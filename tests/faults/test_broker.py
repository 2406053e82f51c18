"""The Kafka broker restarted in the middle of a fan-out: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.crowd import callout, raise_incident, sent_count
from tests.faults.infra import PrivateInfra
from tests.faults.scenes import fanout_under_way, served_once, statuses_back
from tests.system.harness import System

pytestmark = pytest.mark.faults

ADVISORY_PLACE = (25.25, 114.80)
OUTAGE_PLACE = (25.10, 115.00)


async def test_broker_restarted_mid_fanout(system: System, private_infra: PrivateInfra) -> None:
    scene = await fanout_under_way(system, crowd=300, near=ADVISORY_PLACE, sent=30,
                                   squad=30, squad_near=OUTAGE_PLACE)
    at_stop = await sent_count(system, scene.crowd)
    assert at_stop < len(scene.crowd), "the broker must go down mid-fan-out"
    await asyncio.to_thread(private_infra.kafka_stop)
    # Raised while the broker is down: the dispatcher commits it and the relay waits.
    raised = await raise_incident(system, callout(OUTAGE_PLACE, need=10))
    await asyncio.to_thread(private_infra.kafka_start)

    await served_once(system, scene.crowd, within=120, what="every advisory recipient served",
                      context=f"{at_stop} sent when the broker stopped")
    await served_once(system, scene.squad, 20, what="the outage call-out served")
    await statuses_back(system, raised["id"], 20, what="delivery statuses back at the dispatcher")
