"""A carrier error storm: 30 % of sends answer 500 and a low per-sender limit answers 20429."""

from __future__ import annotations

import pytest

from tests.faults.crowd import add_crowd, advisory, indexed, raise_incident
from tests.faults.scenes import served_once
from tests.support import eventually
from tests.system.harness import System

pytestmark = pytest.mark.faults

STORM_PLACE = (25.95, 115.20)


async def test_error_storm_delivers_everything_once(system: System) -> None:
    phones = await add_crowd(system, 150, near=STORM_PLACE)
    await eventually(lambda: indexed(system, phones), timeout=60, what="crowd indexed")
    # The carrier answers 20429 above two concurrent requests (Twilio queues over-rate sends).
    await system.sandbox("PATCH", "/v1/admin/behaviour",
                         json={"error_rate": 0.3, "concurrency_limit": 2, "latency_ms": 20})
    await raise_incident(system, advisory(STORM_PLACE))

    await served_once(system, phones, within=120, what="every recipient served through the storm")
    stats = await system.sandbox("GET", "/v1/admin/stats")
    assert stats["errors_5xx"] > 0 and stats.get("rejected_429", 0) > 0, stats
    assert stats["created"] == len(phones), stats
