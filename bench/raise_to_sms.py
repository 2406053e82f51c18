"""Raise-to-first-SMS: POST /v1/incidents until the first message reaches the sandbox.

    python3 -m bench.raise_to_sms [--incidents 200] [--volunteers 3000]

The whole system runs as processes (registry, dispatcher, notifier, sandbox). Incidents are
raised one after another at random points among the volunteers, each calling two people;
the next is raised once both alerts of the last are out, so the sandbox's message counter
attributes each first SMS to its incident.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from typing import Any

import asyncpg
import httpx

from bench.stats import percentiles, progress
from bench.system import created, desk, incident_body, running_system
from tests.faults.crowd import add_crowd, indexed
from tests.support import eventually
from tests.system.harness import System

CENTRE = (25.83, 114.93)


async def _first_sms(api: httpx.AsyncClient, sandbox: httpx.AsyncClient, body: dict[str, Any]
                     ) -> tuple[float, float, float]:
    before = await created(sandbox)
    wall, t0 = time.time(), time.perf_counter()
    r = await api.post("/v1/incidents", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    t_http = time.perf_counter()
    r.raise_for_status()
    while await created(sandbox) == before:
        if time.perf_counter() - t0 > 30:
            raise TimeoutError(f"no SMS for {body['title']}: {r.json()}")
    t_sms = time.perf_counter()
    called = int(r.json()["called"])

    async def all_out() -> bool:  # the rest of this call before the next is raised
        return await created(sandbox) >= before + called

    await eventually(all_out, timeout=30, interval=0.005, what="the whole call out")
    return (t_http - t0) * 1000, (t_sms - t0) * 1000, wall


# Where the time goes: the first row of each stage after the incident's POST, on the
# database's clock (same host as the client's time.time()): the call-out's outbox row written
# (just before the incident commits), the relay's broker acks, the notifier's intake
# transaction begun (now()), its claim. Incidents run one at a time: one incident per window.
_STAGES = {
    "callout_event_written": "SELECT extract(epoch FROM created_at) FROM dispatcher.outbox"
                             " WHERE topic = 'dispatch.callouts.v1'",
    "relay_acked": "SELECT extract(epoch FROM published_at) FROM dispatcher.outbox"
                   " WHERE topic = 'dispatch.callouts.v1'",
    "notifier_tx_begin": "SELECT extract(epoch FROM processed_at) FROM notifier.processed_events"
                         " WHERE consumer = 'notifier'",
    "notifier_claim": "SELECT extract(epoch FROM claimed_at) FROM notifier.deliveries",
}


async def _stages(database_url: str, walls: list[float]) -> dict[str, Any]:
    """Per stage, p50/p99 of ms from the POST to the first such row of that incident."""
    conn = await asyncpg.connect(database_url)
    try:
        marks = {k: sorted(float(r[0]) for r in await conn.fetch(q) if r[0] is not None)
                 for k, q in _STAGES.items()}
    finally:
        await conn.close()
    bounds = [*walls[1:], float("inf")]
    out: dict[str, Any] = {}
    for stage, times in marks.items():
        spans = [(t - lo) * 1000 for lo, hi in zip(walls, bounds, strict=True)
                 for t in [next((t for t in times if lo <= t < hi), None)] if t is not None]
        out[stage] = percentiles(spans) if spans else None
    return out


async def measure(system: System, incidents: int, volunteers: int) -> dict[str, Any]:
    progress(f"raise_to_sms: importing {volunteers} volunteers")
    phones = await add_crowd(system, volunteers, near=CENTRE)
    await eventually(lambda: indexed(system, phones), timeout=300, interval=0.5, what="index")
    rnd = random.Random(3)
    samples = []
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=30) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10) as sandbox):
        for i in range(incidents + 5):  # five to warm up plans, pools and consumers
            # Somewhere on the crowd's grid (add_crowd: 32 per row, 0.0004 degrees apart).
            point = (CENTRE[0] - rnd.uniform(0, 0.0004 * volunteers / 32),
                     CENTRE[1] - rnd.uniform(0, 0.0004 * 32))
            sample = await _first_sms(api, sandbox, incident_body(f"基准{i}", point))
            if i >= 5:
                samples.append(sample)
            if i % 50 == 0:
                progress(f"raise_to_sms: {i}/{incidents}")
    return {"http_201": percentiles([h for h, _, _ in samples]),
            "raise_to_first_sms": percentiles([s for _, s, _ in samples]),
            "stages_from_post": await _stages(system.database_url, [w for _, _, w in samples])}


async def run(incidents: int = 200, volunteers: int = 3000) -> dict[str, Any]:
    async with running_system() as system:
        result = await measure(system, incidents, volunteers)
    return {"benchmark": "raise_to_sms", "incidents": incidents, "volunteers": volunteers,
            "called_per_incident": 2, **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--volunteers", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.incidents, args.volunteers)), indent=2))
