"""Paced fan-out: an advisory to N people through a carrier sending 100 segments/s per sender.

    python3 -m bench.paced_fanout [--recipients 3000] [--mps 100]

The notifier paces at the same per-sender segment rate the sandbox's carrier queue drains at,
over three senders. Measured by the carrier clock (when each message left the sandbox's queue,
`GET /v1/admin/sent`): segments per second achieved as a fraction of the limit (senders x
mps; target >= 0.97), and the counts of 21611 / 30001 / 20429 (target 0 each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_NUMBERS
from bench.stats import progress, ratio
from bench.system import created, desk, running_system
from tests.faults.crowd import add_crowd, advisory, indexed
from tests.support import eventually
from tests.system.harness import System

CENTRE = (25.70, 115.10)
SENDERS = DEV_NUMBERS[:3]  # three of the dev account's numbers
TARGET = {"achieved_vs_limit": ">= 0.97", "rejected_21611": 0, "failed_30001": 0,
          "rejected_20429": 0}


async def _timeline(sandbox: httpx.AsyncClient, n: int, t0: float) -> tuple[float, float]:
    """Seconds from the POST to the first and to the last of `n` messages accepted."""
    first = None
    while (count := await created(sandbox)) < n:
        if count and first is None:
            first = time.perf_counter() - t0
        if time.perf_counter() - t0 > 900:
            raise TimeoutError(f"only {count} of {n} accepted")
        await asyncio.sleep(0.01)
    return first or 0.0, time.perf_counter() - t0


async def measure(system: System, n: int, mps: float) -> dict[str, Any]:
    progress(f"paced_fanout: importing {n} volunteers")
    phones = await add_crowd(system, n, near=CENTRE)
    await eventually(lambda: indexed(system, phones), timeout=300, interval=0.5, what="index")
    await system.sandbox("PATCH", "/v1/admin/behaviour", json={"mps": mps, "handover_ms": 0})
    await system.sandbox("POST", "/v1/admin/reset")
    centre = (CENTRE[0] - 0.0002 * n / 32, CENTRE[1] - 0.0064)
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=60) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10,
                                  auth=(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)) as sandbox):
        progress(f"paced_fanout: advisory to {n} at {mps:g} msg/s per sender")
        t0 = time.perf_counter()
        (await api.post("/v1/incidents", json=advisory(centre, radius_m=8000))).raise_for_status()
        first, last = await _timeline(sandbox, n, t0)
        stats = (await sandbox.get("/v1/admin/stats")).json()
        sent = (await sandbox.get("/v1/admin/sent")).json()
    achieved, segments = _carrier_rate(sent)
    limit = mps * len(SENDERS)
    return {"recipients": n, "first_sms_s": round(first, 2), "last_sms_s": round(last, 2),
            "segments": segments, "achieved_segments_per_s": round(achieved, 1),
            "limit_segments_per_s": limit, "achieved_vs_limit": ratio(achieved, limit),
            "rejected_21611": int(stats.get("rejected_21611", 0)),
            "failed_30001": int(stats.get("failed_30001", 0)),
            "rejected_20429": int(stats.get("rejected_429", 0)),
            "numbers_with_duplicates": stats["numbers_with_duplicates"], "target": TARGET}


def _carrier_rate(sent: dict[str, list[list[float]]]) -> tuple[float, int]:
    """Segments/s summed over senders, each over its own busy span (its last message's
    segments are not counted: they take time after the span ends)."""
    rate, total = 0.0, 0
    for stamps in sent.values():
        total += sum(int(c) for _, c in stamps)
        if len(stamps) > 1:
            span = stamps[-1][0] - stamps[0][0]
            rate += sum(c for _, c in stamps[:-1]) / span if span > 0 else 0.0
    return rate, total


async def run(recipients: int = 3000, mps: float = 100) -> dict[str, Any]:
    senders = json.dumps(list(SENDERS))
    async with running_system(BAIYING_SENDER_MPS=f"{mps:g}", BAIYING_SMS_SENDERS=senders) as system:
        result = await measure(system, recipients, mps)
    return {"benchmark": "paced_fanout", **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--mps", type=float, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.recipients, args.mps)), indent=2))
