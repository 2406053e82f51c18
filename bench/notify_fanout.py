"""Benchmark: a 10,000-recipient call handed to an unthrottled sandbox, beside the limits above it.

Runs the sandbox and the notifier as separate processes (as deployed), on a scratch
database and topic prefix, then prints JSON, each figure beside the limit it approaches:
  client_ceiling   — wrk against a bare responder: the most wrk can show on this machine
  sandbox_ceiling  — creates/s wrk (compiled, pre-built url-encoded forms with Basic auth)
                     gets from the sandbox: the sandbox's own limit (a lower bound when wrk
                     is near its ceiling)
  raw_http         — creates/s the same sandbox takes straight from the twilio library with
                     the notifier's in-flight cap, nothing else: the notifier's limit
  fanout           — seconds and messages/s from publishing the call-outs to the last SMS
                     accepted; fanout_vs_raw is refused when the sandbox, not the library,
                     limits the raw rate (raw within 70 % of the sandbox's ceiling)
With BAIYING_BENCH_PYSPY=1 the notifier is sampled during the fan-out (hottest frames in
the JSON). --callbacks final|all turns the sandbox's status callbacks on (default none).

    python3 bench/notify_fanout.py [--recipients 10000] [--raw N] [--in-flight 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS
from baiying_shared.events import callouts
from baiying_shared.events.envelope import encode, wrap
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from baiying_shared.settings import CommonSettings
from bench import profile
from bench.fanout_limits import BODY, Busy, ceilings, hottest, verdict
from bench.stats import progress

CALLBACKS = {"none": "[]", "final": '["delivered","undelivered","failed"]', "all": None}
DB = os.environ.get("BAIYING_DATABASE_URL", "postgresql://baiying:baiying@127.0.0.1:5432/baiying")
KAFKA = os.environ.get("BAIYING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, **env},
    )


async def wait_http(url: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(url)


async def raw_rate(sandbox: str, n: int, concurrency: int) -> dict[str, float]:
    """Creates/s through the twilio library with the notifier's in-flight cap, nothing else."""
    http = AsyncTwilioHttpClient()
    client = Client(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, http_client=http, environment={})
    client.api.base_url = sandbox
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await client.messages.create_async(
                to=f"+86133{i:08d}", from_=DEV_SENDERS[i % len(DEV_SENDERS)], body=BODY
            )

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await http.close()
    # The library's own CPU a message (this process is only the client here): what one
    # notifier process pays at least per SMS before any of its own work.
    return {"messages": n, "seconds": round(elapsed, 2), "per_second": round(n / elapsed, 1),
            "client_cpu_us_per_msg": round(cpu / n * 1e6)}


async def publish(settings: CommonSettings, n: int) -> float:
    producer = make_producer(settings, client_id="bench-dispatcher")
    await producer.start()
    incident, start = uuid.uuid4(), time.perf_counter()
    try:
        futures = []
        for i in range(n):
            p = callouts.CalloutIssued(
                callout_id=uuid.uuid4(),
                incident_id=incident,
                volunteer_id=uuid.uuid4(),
                phone=f"+86134{i:08d}",
                channels=("sms",),
                kind="callout",
                title="走失老人寻找",
                category="寻人",
                area="章贡区南门广场",
                district="360702",
                distance_m=100 + i,
                rank=i + 1,
                round=1,
            )
            futures.append(
                await producer.send(
                    settings.topic(callouts.TOPIC),
                    key=str(p.volunteer_id).encode(),
                    value=encode(wrap(p, producer="bench")),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - start


async def fanout(sandbox: str, settings: CommonSettings, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    published = await publish(settings, n)
    created, first_at = 0, None
    async with httpx.AsyncClient(base_url=sandbox) as http:
        while created < n:
            created = (await http.get("/v1/admin/stats")).json().get("created", 0)
            if created and first_at is None:
                first_at = time.perf_counter() - start
            if time.perf_counter() - start > 900:
                raise TimeoutError(f"only {created} of {n} handed over")
            await asyncio.sleep(0.05)
        stats = (await http.get("/v1/admin/stats")).json()
    total = time.perf_counter() - start
    return {
        "recipients": n,
        "publish_seconds": round(published, 2),
        "first_sms_seconds": round(first_at or 0, 2),
        "all_handed_over_seconds": round(total, 2),
        "per_second": round(n / total, 1),
        "numbers_with_duplicates": stats["numbers_with_duplicates"],
    }


_STAGES = """
SELECT count(*) AS n, min(created_at) AS t0,
    extract(epoch FROM max(created_at) - min(created_at)) AS rows_written_s,
    extract(epoch FROM min(claimed_at) - min(created_at)) AS first_claim_s,
    extract(epoch FROM max(claimed_at) - min(created_at)) AS last_claim_s,
    extract(epoch FROM max(updated_at) - min(created_at)) AS last_recorded_s
FROM notifier.deliveries WHERE channel = 'sms'
"""


async def stages(dsn: str) -> dict[str, Any]:
    """Where the fan-out's time went, from the rows themselves: seconds after the first row
    was written until the last was written (intake), first/last claimed, last recorded."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(_STAGES)
    finally:
        await conn.close()
    return {k: round(float(row[k] or 0), 3) for k in row.keys() if k not in ("t0",)}


def _sandbox_env(callbacks: str) -> dict[str, str]:
    env = {"BAIYING_SANDBOX_MPS": "0", "BAIYING_SANDBOX_LOG_LEVEL": "WARNING"}
    if CALLBACKS[callbacks] is not None:
        env["BAIYING_SANDBOX_CALLBACK_STATUSES"] = str(CALLBACKS[callbacks])
    return env


def _notifier_env(dsn: str, prefix: str, sandbox: str, port: int, in_flight: int) -> dict[str, str]:
    return {
        "BAIYING_DATABASE_URL": dsn,
        "BAIYING_KAFKA_BOOTSTRAP": KAFKA,
        "BAIYING_TOPIC_PREFIX": prefix,
        "BAIYING_KAFKA_MAX_PARTITIONS": "3",
        "BAIYING_TWILIO_API_BASE_URL": sandbox,
        "BAIYING_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BAIYING_SENDER_MPS": "1000000",
        "BAIYING_SMS_MAX_IN_FLIGHT": str(in_flight),
        "BAIYING_LOG_LEVEL": "WARNING",
    }


async def _reset(sandbox: str) -> None:
    async with httpx.AsyncClient(auth=(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)) as http:
        (await http.post(f"{sandbox}/v1/admin/reset")).raise_for_status()


async def measure(args: argparse.Namespace, dsn: str, prefix: str,
                  settings: CommonSettings) -> dict[str, Any]:
    sb_port, nt_port = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sb_port}"
    procs = [serve("baiying_sandbox.app:main", sb_port, _sandbox_env(args.callbacks))]
    try:
        await wait_http(f"{sandbox}/healthz")
        limits = await ceilings(sandbox, seconds=args.wrk_seconds, connections=64)
        await _reset(sandbox)
        progress(f"notify_fanout: {args.raw or args.recipients} creates from the twilio library")
        busy = Busy(sandbox=procs[0].pid)
        raw: dict[str, Any] = {
            **await raw_rate(sandbox, args.raw or args.recipients, args.in_flight),
            "core_share": busy.shares(),
        }
        await _reset(sandbox)
        env = _notifier_env(dsn, prefix, sandbox, nt_port, args.in_flight)
        procs.append(serve("baiying_notifier.app:main", nt_port, env))
        await wait_http(f"http://127.0.0.1:{nt_port}/readyz")
        progress(f"notify_fanout: fan-out of {args.recipients} through the notifier")
        expected = args.recipients / max(raw["per_second"], 1.0)
        sampler = profile.start(procs[1].pid, name="notify_fanout-notifier",
                                seconds=min(max(3 * expected, 3.0), 60.0))
        busy = Busy(sandbox=procs[0].pid, notifier=procs[1].pid)
        fan = {**await fanout(sandbox, settings, args.recipients), "core_share": busy.shares()}
        # Consume, render, insert, claim, send, record, publish the status: all of it a message.
        fan["notifier_cpu_us_per_msg"] = round(busy.used_s()["notifier"] / args.recipients * 1e6)
        profiled = hottest(await asyncio.to_thread(profile.finish, sampler,
                                                   name="notify_fanout-notifier"))
        fan["stages"] = await stages(dsn)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
    return {**limits, "raw_http": raw, "fanout": fan, **verdict(raw, fan, limits),
            "notifier_profile": profiled}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(DB)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = DB.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = CommonSettings(
        database_url=dsn, kafka_bootstrap=KAFKA, topic_prefix=prefix, kafka_max_partitions=3
    )
    load = round(os.getloadavg()[0], 2)
    try:
        await ensure_topics(settings)
        measured = await measure(args, dsn, prefix, settings)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "benchmark": "notify_fanout",
        "cores": os.cpu_count(),
        "load_avg_1m": {"before": load, "after": round(os.getloadavg()[0], 2)},
        "in_flight": args.in_flight,
        "sandbox_callbacks": args.callbacks,
        **measured,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--raw", type=int, default=0, help="twilio-library creates (0: as many "
                        "as recipients)")
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--wrk-seconds", type=float, default=5.0)
    parser.add_argument("--callbacks", choices=sorted(CALLBACKS), default="none",
                        help="sandbox status callbacks: none, final statuses only, or all")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
