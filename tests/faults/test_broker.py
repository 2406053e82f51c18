"""The Kafka broker restarted in the middle of a fan-out: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.crowd import (
    add_crowd,
    advisory,
    callout,
    incident,
    indexed,
    not_exactly_once,
    raise_incident,
    sent_count,
    wait_served,
)
from tests.faults.infra import PrivateInfra
from tests.support import eventually
from tests.system.harness import System

pytestmark = pytest.mark.faults

ADVISORY_PLACE = (25.25, 114.80)
OUTAGE_PLACE = (25.10, 115.00)


async def test_broker_restarted_mid_fanout(system: System, private_infra: PrivateInfra) -> None:
    crowd = await add_crowd(system, 300, near=ADVISORY_PLACE)
    squad = await add_crowd(system, 30, near=OUTAGE_PLACE)
    await eventually(lambda: indexed(system, crowd + squad), timeout=60, what="people indexed")
    await raise_incident(system, advisory(ADVISORY_PLACE))

    async def some_sent() -> bool:
        return await sent_count(system, crowd) >= 30

    await eventually(some_sent, timeout=60, what="fan-out under way")
    at_stop = await sent_count(system, crowd)
    assert at_stop < len(crowd), "the broker must go down mid-fan-out"
    await asyncio.to_thread(private_infra.kafka_stop)
    # Raised while the broker is down: the dispatcher commits it and the relay waits.
    raised = await raise_incident(system, callout(OUTAGE_PLACE, need=10))
    await asyncio.to_thread(private_infra.kafka_start)

    counts = await wait_served(system, crowd, within=120,
                               what="every advisory recipient served")
    assert not_exactly_once(counts) == {}, f"{at_stop} sent when the broker stopped"
    squad_counts = await wait_served(system, squad, 20, what="the outage call-out served")
    assert not_exactly_once({p: n for p, n in squad_counts.items() if n}) == {}

    async def statuses_back() -> dict[str, int] | None:
        seen = (await incident(system, raised["id"]))["deliveries"]
        return seen if seen.get("delivered") == 20 else None

    await eventually(statuses_back, timeout=60, what="delivery statuses back at the dispatcher")
