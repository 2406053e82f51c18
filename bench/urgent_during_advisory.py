"""An urgent call-out raised during a large advisory: raise to first `sent`, beside no advisory.

    python3 -m bench.urgent_during_advisory [--recipients 10000] [--reps 30] [--mps 100]

The whole system as processes; three senders at `mps` segments/s in both the notifier and
the sandbox's carrier queues. First `reps` call-outs with nothing else running (each to a
one-person squad of its own, far from everyone else), then an advisory to `recipients`
people and, from 2 s into it, `reps` more call-outs one after another while it is still
going. Each latency is from just before the POST to the moment the call-out's SMS left the
carrier queue (the sandbox's `date_sent`, `GET /v1/admin/departures`): what a volunteer's
phone would see, not the API's answer. Target: p99 during the advisory within 300 ms of
p99 without it. Each figure comes with its stages (`stages_idle`, `stages_during`, ms from
the POST): the call-out's event in the dispatcher's outbox, the relay's acks, the notifier's
row, the carrier's `sent` — upstream of the notifier's row is the lanes' part (outbox lanes,
bulk topics), after it the sender's. `--recipients 2000 --reps 10` shrinks it to a minute.
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


async def _departed(system: System, phone: str) -> tuple[datetime, datetime] | None:
    """When the carrier created the message to `phone`, and when it left its queue."""
    got = await system.sandbox("GET", "/v1/admin/departures", params={"to": phone})
    stamps = [(m["created"], m["sent"]) for m in got.get(phone, []) if m["sent"]]
    if not stamps:
        return None
    return datetime.fromisoformat(stamps[0][0]), datetime.fromisoformat(stamps[0][1])


# Where an urgent call-out's time goes, on the database's clock (same host as the client's
# time.time()), per stage from the POST: its CalloutIssued written to the dispatcher's outbox,
# the relay's broker acks, the notifier's row (its intake transaction), the carrier's `sent`.
_STAGES = """
SELECT extract(epoch FROM o.created_at), extract(epoch FROM o.published_at),
       (SELECT extract(epoch FROM min(d.created_at)) FROM notifier.deliveries d
        WHERE d.callout_id = c.id),
       (SELECT extract(epoch FROM min(d.claimed_at)) FROM notifier.deliveries d
        WHERE d.callout_id = c.id)
FROM dispatcher.callouts c
JOIN dispatcher.outbox o ON o.key = c.volunteer_id::text AND o.topic = 'dispatch.callouts.v1'
WHERE c.incident_id = $1::uuid ORDER BY o.id LIMIT 1
"""
STAGES = ("event_written", "relay_acked", "notifier_row", "claimed", "carrier_created", "sent")


async def _stages(system: System, incident_id: str) -> list[float]:
    """Epoch seconds of the database stages (outbox to claim) of the call-out of `incident_id`."""
    conn = await asyncpg.connect(system.database_url)
    try:
        row = await conn.fetchrow(_STAGES, incident_id)
    finally:
        await conn.close()
    assert row is not None and None not in tuple(row), f"no stages for {incident_id}"
    return [float(v) for v in row]


async def _latency_ms(system: System, place: tuple[float, float], phone: str) -> list[float]:
    """Raise a call-out for one person: ms from the POST to each of STAGES, the last its SMS
    leaving the carrier queue (what the volunteer's phone sees)."""
    t0 = time.time()
    raised = await raise_incident(system, callout(place, need=1, radius_m=500))
    sent = await eventually(lambda: _departed(system, phone), timeout=120, interval=0.005,
                            what=f"the call-out to {phone} sent")  # fmt: skip
    marks = [*await _stages(system, raised["id"]), *(t.timestamp() for t in sent)]
    return [(m - t0) * 1000 for m in marks]


def _breakdown(samples: list[list[float]]) -> dict[str, Any]:
    """Per stage, percentiles of ms from the POST (the last is the figure itself)."""
    return {stage: percentiles([s[k] for s in samples]) for k, stage in enumerate(STAGES)}


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
    idle_p, during_p = percentiles([a[-1] for a in idle]), percentiles([a[-1] for a in during])
    return {"recipients": n, "reps": reps, "mps_per_sender": mps, "senders": len(SENDERS),
            "idle": idle_p, "during_advisory": during_p,
            "p99_during_minus_p99_idle_ms": round(during_p["p99_ms"] - idle_p["p99_ms"], 1),
            # each stage's ms from the POST: upstream (outbox, relay, intake) and the notifier's
            # own part after its row (its queue, the carrier's)
            "stages_idle": _breakdown(idle), "stages_during": _breakdown(during),
            "notifier_row_to_sent_idle": percentiles([a[-1] - a[2] for a in idle]),
            "notifier_row_to_sent_during": percentiles([a[-1] - a[2] for a in during]),
            # at the carrier: from its create to `sent`, the queue of that sender ahead of it
            "carrier_queue_idle": percentiles([a[-1] - a[-2] for a in idle]),
            "carrier_queue_during": percentiles([a[-1] - a[-2] for a in during]),
            "raised_while_advisory_still_sending": overlapped, "target": TARGET}


async def run(
    recipients: int = 10_000, reps: int = 30, mps: float = 100, tolerance: float = 0.5,
    bulk_tolerance: float = 0.2, express_tolerance: float = 0.1,
) -> dict[str, Any]:
    env = {"BAIYING_SENDER_MPS": f"{mps:g}", "BAIYING_SMS_SENDERS": json.dumps(list(SENDERS)),
           "BAIYING_PACING_TOLERANCE_S": f"{tolerance:g}",
           "BAIYING_PACING_BULK_TOLERANCE_S": f"{bulk_tolerance:g}",
           "BAIYING_PACING_EXPRESS_TOLERANCE_S": f"{express_tolerance:g}"}
    async with running_system(**env) as system:
        result = await measure(system, recipients, reps, mps)
    return {"benchmark": "urgent_during_advisory", "pacing_tolerance_s": tolerance,
            "pacing_bulk_tolerance_s": bulk_tolerance,
            "pacing_express_tolerance_s": express_tolerance, **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--mps", type=float, default=100)
    # what may wait at the carrier ahead of a call-out (BAIYING_PACING_TOLERANCE_S)
    parser.add_argument("--tolerance", type=float, default=0.5)
    # what an advisory may queue at the carrier (BAIYING_PACING_BULK_TOLERANCE_S)
    parser.add_argument("--bulk-tolerance", type=float, default=0.2)
    # what the first sender's advisory may queue (BAIYING_PACING_EXPRESS_TOLERANCE_S)
    parser.add_argument("--express-tolerance", type=float, default=0.1)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.recipients, args.reps, args.mps, args.tolerance, args.bulk_tolerance,
            args.express_tolerance)
    )
    print(json.dumps(result, indent=2))
