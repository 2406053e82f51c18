"""Paced fan-out: an advisory to N people through a carrier limited to 100 msg/s per sender.

    python3 -m bench.paced_fanout [--recipients 3000] [--mps 100]

The notifier paces at the same per-sender rate the sandbox enforces; the result is the
achieved rate as a fraction of the limit (senders x mps) and the count of 20429s (target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx

from bench.stats import progress, ratio
from bench.system import created, desk, running_system
from tests.faults.crowd import add_crowd, advisory, indexed
from tests.support import eventually
from tests.system.harness import System

CENTRE = (25.70, 115.10)
SENDERS = 2  # the sandbox's and the notifier's default sender numbers


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
    await system.sandbox("PATCH", "/v1/admin/behaviour", json={"mps": mps})
    await system.sandbox("POST", "/v1/admin/reset")
    centre = (CENTRE[0] - 0.0002 * n / 32, CENTRE[1] - 0.0064)
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=60) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10) as sandbox):
        progress(f"paced_fanout: advisory to {n} at {mps:g} msg/s per sender")
        t0 = time.perf_counter()
        (await api.post("/v1/incidents", json=advisory(centre, radius_m=8000))).raise_for_status()
        first, last = await _timeline(sandbox, n, t0)
        stats = (await sandbox.get("/v1/admin/stats")).json()
    achieved = (n - 1) / (last - first) if last > first else 0.0
    limit = mps * SENDERS
    return {"recipients": n, "first_sms_s": round(first, 2), "last_sms_s": round(last, 2),
            "achieved_per_s": round(achieved, 1), "limit_per_s": limit,
            "achieved_vs_limit": ratio(achieved, limit),
            "rejected_20429": int(stats.get("rejected_429", 0)),
            "numbers_with_duplicates": stats["numbers_with_duplicates"]}


async def run(recipients: int = 3000, mps: float = 100) -> dict[str, Any]:
    async with running_system(BAIYING_SENDER_MPS=f"{mps:g}") as system:
        result = await measure(system, recipients, mps)
    return {"benchmark": "paced_fanout", **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--mps", type=float, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.recipients, args.mps)), indent=2))
