"""An urgent call-out raised during a large advisory: raise to first `sent`, beside no advisory.

    python3 -m bench.urgent_during_advisory [--recipients 10000] [--reps 30] [--mps 100]

The whole system as processes; three senders at `mps` segments/s in both the notifier and
the sandbox's carrier queues. First `reps` call-outs with nothing else running (each to a
one-person squad of its own, far from everyone else), then an advisory to `recipients`
people and, from 2 s into it, `reps` more call-outs one after another while it is still
going. Each latency is from just before the POST to the moment the call-out's SMS left the
carrier queue (the sandbox's `date_sent`, `GET /v1/admin/departures`): what a volunteer's
phone would see, not the API's answer. Target: p99 during the advisory within 300 ms of
p99 without it. `--recipients 2000 --reps 10` shrinks it to about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from typing import Any

import asyncpg

from baiying_sandbox.config import DEV_NUMBERS
from bench.stats import percentiles, progress
from bench.system import running_system
from tests.faults.crowd import add_crowd, advisory, callout, indexed, raise_incident
from tests.support import eventually
from tests.system.harness import System

CENTRE = (25.70, 115.10)
SQUADS_AT = (25.95, 114.80)  # ~30 km from the crowd: no advisory reaches them
SENDERS = DEV_NUMBERS[:3]
TARGET = {"p99_during_minus_p99_idle_ms": "<= 300"}


async def _squads(system: System, n: int) -> list[tuple[tuple[float, float], str]]:
    """`n` one-person squads 2 km apart: (place, phone) each."""
    out = []
    for i in range(n):
        place = (SQUADS_AT[0] + 0.02 * (i // 10), SQUADS_AT[1] + 0.02 * (i % 10))
        [phone] = await add_crowd(system, 1, near=place)
        out.append((place, phone))
    return out


async def _departed(system: System, phone: str) -> datetime | None:
    got = await system.sandbox("GET", "/v1/admin/departures", params={"to": phone})
    stamps = [m["sent"] for m in got.get(phone, []) if m["sent"]]
    return datetime.fromisoformat(stamps[0]) if stamps else None


async def _queued_at(system: System, phone: str) -> datetime:
    """When the notifier's row for the call-out to `phone` was written (its intake)."""
    conn = await asyncpg.connect(system.database_url)
    try:
        at: datetime = await conn.fetchval(
            "SELECT min(created_at) FROM notifier.deliveries WHERE phone = $1", phone)
        return at
    finally:
        await conn.close()


async def _latency_ms(
    system: System, place: tuple[float, float], phone: str
) -> tuple[float, float]:
    """Raise a call-out for one person: ms from the POST to its SMS leaving the carrier queue,
    and of that, ms from the notifier's row (intake) to the same moment (our queue + carrier)."""
    t0 = time.time()
    await raise_incident(system, callout(place, need=1, radius_m=500))
    sent = await eventually(lambda: _departed(system, phone), timeout=120, interval=0.005,
                            what=f"the call-out to {phone} sent")  # fmt: skip
    queued = await _queued_at(system, phone)
    return (sent.timestamp() - t0) * 1000, (sent - queued).total_seconds() * 1000


async def _created(system: System) -> int:
    return int((await system.sandbox("GET", "/v1/admin/stats")).get("created", 0))


async def measure(system: System, n: int, reps: int, mps: float) -> dict[str, Any]:
    progress(f"urgent_during_advisory: importing {n} volunteers and {2 * reps} squads")
    crowd = await add_crowd(system, n, near=CENTRE)
    squads = await _squads(system, 2 * reps)
    everyone = crowd + [p for _, p in squads]
    await eventually(lambda: indexed(system, everyone), timeout=600, interval=0.5, what="index")
    await system.sandbox("PATCH", "/v1/admin/behaviour", json={"mps": mps, "handover_ms": 0})
    await system.sandbox("POST", "/v1/admin/reset")
    progress("urgent_during_advisory: call-outs with nothing else running")
    idle = [await _latency_ms(system, place, phone) for place, phone in squads[:reps]]
    progress(f"urgent_during_advisory: advisory to {n}, call-outs from 2 s into it")
    centre = (CENTRE[0] - 0.0002 * n / 32, CENTRE[1] - 0.0064)
    await raise_incident(system, advisory(centre, radius_m=8000))
    await asyncio.sleep(2.0)  # the scenario: the call-out comes 2 s into the advisory
    during, overlapped = [], 0
    for place, phone in squads[reps:]:
        during.append(await _latency_ms(system, place, phone))
        overlapped += await _created(system) < reps + n  # the advisory still going then
    idle_p, during_p = percentiles([a for a, _ in idle]), percentiles([a for a, _ in during])
    return {"recipients": n, "reps": reps, "mps_per_sender": mps, "senders": len(SENDERS),
            "idle": idle_p, "during_advisory": during_p,
            "p99_during_minus_p99_idle_ms": round(during_p["p99_ms"] - idle_p["p99_ms"], 1),
            # the notifier's own part: from its row (intake) to the SMS leaving the carrier
            "notifier_row_to_sent_idle": percentiles([b for _, b in idle]),
            "notifier_row_to_sent_during": percentiles([b for _, b in during]),
            "raised_while_advisory_still_sending": overlapped, "target": TARGET}


async def run(
    recipients: int = 10_000, reps: int = 30, mps: float = 100, tolerance: float = 0.5
) -> dict[str, Any]:
    senders = json.dumps(list(SENDERS))
    async with running_system(BAIYING_SENDER_MPS=f"{mps:g}", BAIYING_SMS_SENDERS=senders,
                              BAIYING_PACING_TOLERANCE_S=f"{tolerance:g}") as system:
        result = await measure(system, recipients, reps, mps)
    return {"benchmark": "urgent_during_advisory", "pacing_tolerance_s": tolerance, **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--mps", type=float, default=100)
    # what may wait at the carrier ahead of a call-out (BAIYING_PACING_TOLERANCE_S)
    parser.add_argument("--tolerance", type=float, default=0.5)
    args = parser.parse_args()
    result = asyncio.run(run(args.recipients, args.reps, args.mps, args.tolerance))
    print(json.dumps(result, indent=2))
