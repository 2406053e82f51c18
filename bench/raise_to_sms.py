"""Raise-to-first-SMS: POST /v1/incidents until the first message reaches the sandbox.

    python3 -m bench.raise_to_sms [--incidents 200] [--volunteers 3000]

The whole system runs as processes (registry, dispatcher, notifier, sandbox). Incidents are
raised one after another at random points among the volunteers, each calling two people;
the next is raised once both alerts of the last are out (a 5 ms poll of the sandbox's
counter), so each first SMS falls in its incident's window. The first SMS's moment is the
sandbox's own record of creating it (same host clock), not the client's poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from bench import broker_rtt, outbox_hop, profile
from bench.stats import percentiles, progress
from bench.system import created, desk, incident_body, running_system
from tests.faults.crowd import add_crowd, indexed
from tests.support import eventually
from tests.system.harness import System

CENTRE = (25.83, 114.93)


@dataclass(frozen=True)
class Sample:
    wall: float  # time.time() of the POST (the database's clock on this host)
    http_ms: float  # POST -> 201
    out_ms: float  # POST -> the client's 5 ms poll saw every SMS of the call accepted
    incident_id: str
    timing: dict[str, float]  # the POST's Server-Timing: check, tx, view (ms)


def server_timing(header: str) -> dict[str, float]:
    """`check;dur=1.2, tx;dur=3.4` -> {"check": 1.2, "tx": 3.4}."""
    out = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        name, _, params = part.partition(";")
        dur = dict(kv.partition("=")[::2] for kv in params.split(";")).get("dur")
        if dur is not None:
            out[name.strip()] = float(dur)
    return out


async def _first_sms(api: httpx.AsyncClient, sandbox: httpx.AsyncClient, body: dict[str, Any]
                     ) -> Sample:
    before = await created(sandbox)
    wall, t0 = time.time(), time.perf_counter()
    r = await api.post("/v1/incidents", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    t_http = time.perf_counter()
    r.raise_for_status()
    called = int(r.json()["called"])

    async def all_out() -> bool:  # this whole call out before the next is raised
        return await created(sandbox) >= before + called

    # Polled every 5 ms, not in a busy loop: on two cores a client hammering the sandbox's
    # stats took the CPU the raise itself needs. When the first SMS was accepted comes from the
    # sandbox's own clock afterwards (_carrier_marks), not from this poll.
    await eventually(all_out, timeout=30, interval=0.005, what="the whole call out")
    return Sample(wall, (t_http - t0) * 1000, (time.perf_counter() - t0) * 1000,
                  str(r.json()["id"]), server_timing(r.headers.get("server-timing", "")))


async def _carrier_marks(sandbox: httpx.AsyncClient, database_url: str,
                         samples: list[Sample]) -> dict[str, float]:
    """Per incident, the wall time (the host's clock, as Sample.wall) the sandbox accepted its
    first SMS: the notifier's alert rows name its phones, the sandbox's departures say when
    each message to them was created. A phone called again later is told apart by the window
    up to the next incident's POST."""
    conn = await asyncpg.connect(database_url)
    try:
        phones: dict[str, set[str]] = {}
        for r in await conn.fetch("SELECT incident_id, phone FROM notifier.deliveries"
                                  " WHERE channel = 'sms' AND message = 'alert'"):
            phones.setdefault(str(r[0]), set()).add(r[1])
    finally:
        await conn.close()
    numbers = sorted({p for ps in phones.values() for p in ps})
    made: dict[str, list[float]] = {}
    for i in range(0, len(numbers), 50):
        got = (await sandbox.get("/v1/admin/departures",
                                 params={"to": numbers[i:i + 50]})).json()
        for n, msgs in got.items():
            made[n] = [datetime.fromisoformat(m["created"]).timestamp() for m in msgs]
    bounds = [*(s.wall for s in samples[1:]), float("inf")]
    out = {}
    for s, hi in zip(samples, bounds, strict=True):
        times = [t for p in phones.get(s.incident_id, ()) for t in made.get(p, ())
                 if s.wall <= t < hi]
        if times:
            out[s.incident_id] = min(times)
    return out


# Where the time goes, per incident, on the database's clock (the same host's as time.time()):
# the dispatcher's transaction begun (incidents.created_at is now(), its start) and committed
# (that plus the POST's Server-Timing tx), then the first row of each later stage after the
# incident's POST: the call-out's outbox row's created_at, the relay's broker acks, the
# notifier's intake transaction begun (now()), its claim; the sandbox accepting the first SMS
# is the client's poll. Incidents run one at a time: one incident per window.
_WINDOWED = {
    "callout_event_written": "SELECT extract(epoch FROM created_at) FROM dispatcher.outbox"
                             " WHERE topic = 'dispatch.callouts.v1'",
    "relay_acked": "SELECT extract(epoch FROM published_at) FROM dispatcher.outbox"
                   " WHERE topic = 'dispatch.callouts.v1'",
    "notifier_tx_begin": "SELECT extract(epoch FROM processed_at) FROM notifier.processed_events"
                         " WHERE consumer = 'notifier'",
    "notifier_claim": "SELECT extract(epoch FROM claimed_at) FROM notifier.deliveries",
}
# The order a call-out passes the stages in; each step is reported as well as each total.
CHAIN = ("dispatcher_tx_begin", "dispatcher_committed", "relay_acked", "notifier_tx_begin",
         "notifier_claim", "sandbox_accepted")


async def _marks(database_url: str, samples: list[Sample], carrier: dict[str, float]
                 ) -> list[dict[str, float]]:
    """Per incident, ms from its POST to each stage it reached."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = {k: sorted(float(r[0]) for r in await conn.fetch(q) if r[0] is not None)
                for k, q in _WINDOWED.items()}
        begun = {str(r[0]): float(r[1]) for r in await conn.fetch(
            "SELECT id, extract(epoch FROM created_at) FROM dispatcher.incidents")}
    finally:
        await conn.close()
    bounds = [*(s.wall for s in samples[1:]), float("inf")]
    out = []
    for s, hi in zip(samples, bounds, strict=True):
        m = {k: (t - s.wall) * 1000 for k, times in rows.items()
             for t in [next((t for t in times if s.wall <= t < hi), None)] if t is not None}
        if s.incident_id in begun:
            m["dispatcher_tx_begin"] = (begun[s.incident_id] - s.wall) * 1000
            if "tx" in s.timing:
                m["dispatcher_committed"] = m["dispatcher_tx_begin"] + s.timing["tx"]
        if s.incident_id in carrier:  # the sandbox's clock
            m["sandbox_accepted"] = (carrier[s.incident_id] - s.wall) * 1000
        out.append(m)
    return out


def _pct(values: list[float]) -> dict[str, float] | None:
    return percentiles(values) if values else None


def _summary(marks: list[dict[str, float]], samples: list[Sample]) -> dict[str, Any]:
    names = [*CHAIN[:2], "callout_event_written", *CHAIN[2:]]
    chain = [{"post": 0.0, **m} for m in marks]
    return {
        "stages_from_post": {k: _pct([m[k] for m in marks if k in m]) for k in names},
        # Each step of the chain on its own: where the remaining time is.
        "stage_steps": {f"{a} -> {b}": _pct([m[b] - m[a] for m in chain if a in m and b in m])
                        for a, b in zip(("post", *CHAIN), CHAIN, strict=False)},
        "dispatcher_server_timing": {
            k: _pct([s.timing[k] for s in samples if k in s.timing])
            for k in ("check", "tx", "view")},
        # The tail's own chains: which step a slow raise lost its time in.
        "slowest": [{k: round(v, 2) for k, v in m.items()} for m in sorted(
            marks, key=lambda m: -m.get("sandbox_accepted", 0.0))[:SLOWEST]],
    }


SLOWEST = 5


async def _beside() -> dict[str, Any]:
    """The floors a raise crosses once, measured in this run: the broker's bare round trip
    and the outbox hop (commit -> relay -> broker -> a consumer's handler)."""
    rtt = await broker_rtt.run(BESIDE_N)
    hop = await outbox_hop.run(BESIDE_N)
    return {"broker_produce_to_consume": rtt["produce_to_consume"],
            "outbox_commit_to_handler": hop["commit_to_handler"], "n": BESIDE_N}


BESIDE_N = 100


async def measure(system: System, incidents: int, volunteers: int) -> dict[str, Any]:
    progress(f"raise_to_sms: importing {volunteers} volunteers")
    phones = await add_crowd(system, volunteers, near=CENTRE)
    await eventually(lambda: indexed(system, phones), timeout=300, interval=0.5, what="index")
    rnd = random.Random(3)
    samples = []
    # BAIYING_BENCH_PYSPY=1: the dispatcher's stacks while it raises (about 0.12 s each).
    sampler = profile.start(system.procs["dispatcher"].pid, name="raise_to_sms-dispatcher",
                            seconds=incidents * 0.12)
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
        carrier = await _carrier_marks(sandbox, system.database_url, samples)
    profiled = await asyncio.to_thread(profile.finish, sampler, name="raise_to_sms-dispatcher")
    marks = await _marks(system.database_url, samples, carrier)
    return {"http_201": percentiles([s.http_ms for s in samples]),
            # The POST (client clock) to the sandbox accepting the first SMS (its clock; the
            # same host's): no poll's granularity in it.
            "raise_to_first_sms": percentiles([m["sandbox_accepted"] for m in marks
                                               if "sandbox_accepted" in m]),
            "whole_call_out_seen_by_client": percentiles([s.out_ms for s in samples]),
            **_summary(marks, samples),
            "dispatcher_profile": profiled}


SENDER_MPS = 100.0


async def run(incidents: int = 200, volunteers: int = 3000) -> dict[str, Any]:
    progress("raise_to_sms: the broker round trip and outbox hop beside it")
    beside = await _beside()
    # Senders at a real rate (100 segments/s each, as the paced benchmarks): at the notifier's
    # 10/s default, incidents raised back to back outrun two senders and the figure measures
    # pacing, not latency.
    async with running_system(BAIYING_SENDER_MPS=f"{SENDER_MPS:g}") as system:
        result = await measure(system, incidents, volunteers)
    return {"benchmark": "raise_to_sms", "incidents": incidents, "volunteers": volunteers,
            "called_per_incident": 2, "sender_mps": SENDER_MPS,
            "limit_ms": {"p50": 30, "p99": 60}, **result,
            "beside": beside}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--volunteers", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.incidents, args.volunteers)), indent=2))
