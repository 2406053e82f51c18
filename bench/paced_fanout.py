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

import asyncpg
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
        t0, t0_wall = time.perf_counter(), time.time()
        (await api.post("/v1/incidents", json=advisory(centre, radius_m=8000))).raise_for_status()
        first, last = await _timeline(sandbox, n, t0)
        sent = await _all_sent(sandbox, n)
        stats = (await sandbox.get("/v1/admin/stats")).json()
    achieved, segments = _carrier_rate(sent)
    limit = mps * len(SENDERS)
    stages = await _stages(system, sent, t0_wall)
    return {"recipients": n, "first_sms_s": round(first, 2), "last_sms_s": round(last, 2),
            "segments": segments, "achieved_segments_per_s": round(achieved, 1),
            "limit_segments_per_s": limit, "achieved_vs_limit": ratio(achieved, limit),
            "per_sender_segments_per_s": {k: round(v, 1) for k, v in _per_sender(sent).items()},
            "stages": stages,
            "rejected_21611": int(stats.get("rejected_21611", 0)),
            "failed_30001": int(stats.get("failed_30001", 0)),
            "rejected_20429": int(stats.get("rejected_429", 0)),
            "numbers_with_duplicates": stats["numbers_with_duplicates"], "target": TARGET}


async def _all_sent(sandbox: httpx.AsyncClient, n: int) -> dict[str, list[list[float]]]:
    """The carrier clock once all `n` accepted messages have left their queues."""
    deadline = time.perf_counter() + 60
    while True:
        sent: dict[str, list[list[float]]] = (await sandbox.get("/v1/admin/sent")).json()
        if sum(len(v) for v in sent.values()) >= n or time.perf_counter() > deadline:
            return sent
        await asyncio.sleep(0.05)


def _carrier_rate(sent: dict[str, list[list[float]]]) -> tuple[float, int]:
    """Segments/s by the carrier clock over ONE window for all senders: from the first
    message leaving any sender's queue to the last leaving one (the last message's segments
    are not counted: they take time after the window ends). A sender that starts late or
    idles counts against the figure, as it would for the people waiting."""
    stamps = sorted((t, int(c)) for v in sent.values() for t, c in v)
    total = sum(c for _, c in stamps)
    if len(stamps) < 2 or stamps[-1][0] <= stamps[0][0]:
        return 0.0, total
    return (total - stamps[-1][1]) / (stamps[-1][0] - stamps[0][0]), total


def _per_sender(sent: dict[str, list[list[float]]]) -> dict[str, float]:
    """Each sender over its own busy span (diagnosis: is one sender starved?)."""
    return {k: _carrier_rate({k: v})[0] for k, v in sent.items()}


async def _stages(system: System, sent: dict[str, list[list[float]]], t0: float) -> dict[str, Any]:
    """Where the time went, from the notifier's rows: when intake queued them (created_at) and
    when the sender claimed them, beside the carrier's window (seconds from the POST)."""
    conn = await asyncpg.connect(system.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT extract(epoch FROM min(created_at)) AS q0, extract(epoch FROM max(created_at))"
            " AS q1, extract(epoch FROM min(claimed_at)) AS c0, extract(epoch FROM"
            " max(claimed_at)) AS c1, count(*) AS n FROM notifier.deliveries WHERE channel = 'sms'")
    finally:
        await conn.close()
    stamps = sorted(t for v in sent.values() for t, _ in v)
    rel = {k: round(float(row[k]) - t0, 2) for k in ("q0", "q1", "c0", "c1") if row[k] is not None}
    return {"queued_first_s": rel.get("q0"), "queued_last_s": rel.get("q1"),
            "claimed_first_s": rel.get("c0"), "claimed_last_s": rel.get("c1"),
            "carrier_window_s": round(stamps[-1] - stamps[0], 2) if stamps else None,
            "rows": int(row["n"])}


async def run(recipients: int = 3000, mps: float = 100, bulk_tolerance: float = 0.2
              ) -> dict[str, Any]:
    senders = json.dumps(list(SENDERS))
    async with running_system(BAIYING_SENDER_MPS=f"{mps:g}", BAIYING_SMS_SENDERS=senders,
                              BAIYING_PACING_BULK_TOLERANCE_S=f"{bulk_tolerance:g}") as system:
        result = await measure(system, recipients, mps)
    return {"benchmark": "paced_fanout", "pacing_bulk_tolerance_s": bulk_tolerance, **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--mps", type=float, default=100)
    # how far ahead an advisory may run at the carrier (BAIYING_PACING_BULK_TOLERANCE_S)
    parser.add_argument("--bulk-tolerance", type=float, default=0.2)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.recipients, args.mps, args.bulk_tolerance)), indent=2))
