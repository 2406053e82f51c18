"""Raise-to-first-call-out latency: POST /v1/incidents until the first CalloutIssued is on Kafka.

    python3 bench/dispatch_raise.py --volunteers 1000000 --incidents 50

Runs a real dispatcher (in this process, over HTTP) against a throwaway database and an
isolated topic prefix on BAIYING_KAFKA_BOOTSTRAP. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_common import LAT, LON, load_volunteers, percentiles, temp_database

from baiying_dispatcher.app import create_app
from baiying_dispatcher.config import DispatcherSettings
from baiying_shared.auth import mint_token
from baiying_shared.events.envelope import decode


@asynccontextmanager
async def serving(settings: DispatcherSettings) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class FirstSeen:
    """Notes when the first call-out of each incident arrives on the topic."""

    def __init__(self, settings: DispatcherSettings) -> None:
        self.at: dict[str, float] = {}
        self._consumer = AIOKafkaConsumer(
            settings.topic("dispatch.callouts.v1"), bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )

    async def run(self) -> None:
        await self._consumer.start()
        try:
            async for record in self._consumer:
                incident = str(decode(record.value or b"").payload.incident_id)  # type: ignore[attr-defined]
                self.at.setdefault(incident, time.perf_counter())
        finally:
            await self._consumer.stop()


async def _one(
    client: httpx.AsyncClient, seen: FirstSeen, rnd: random.Random
) -> tuple[float, float]:
    body = {
        "title": "bench", "category": "bench", "address": "bench", "district": "360702",
        "location": {"lat": rnd.uniform(*LAT), "lon": rnd.uniform(*LON)},
        "radius_m": 5000, "need": {"total": 5},
    }
    t0 = time.perf_counter()
    r = await client.post("/v1/incidents", json=body)
    t_http = time.perf_counter()
    r.raise_for_status()
    incident = r.json()["id"]
    while incident not in seen.at:
        if time.perf_counter() - t0 > 30:
            raise TimeoutError(f"no call-out for {incident}")
        await asyncio.sleep(0.0005)
    return (t_http - t0) * 1000, (seen.at[incident] - t0) * 1000


async def main(args: argparse.Namespace) -> None:
    async with temp_database() as url:
        settings = DispatcherSettings(
            profile="test", database_url=url, topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
            kafka_bootstrap=os.environ.get("BAIYING_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            kafka_max_partitions=3, log_level="WARNING", dispatch_round_wait_s=3600,
        )
        async with serving(settings) as base:
            conn = await asyncpg.connect(url, server_settings={"search_path": "dispatcher,public"})
            await load_volunteers(conn, args.volunteers)
            await conn.close()
            seen = FirstSeen(settings)
            reader = asyncio.create_task(seen.run())
            token = mint_token(settings, sub="bench", role="duty_desk", districts=["360702"])
            rnd = random.Random(11)
            async with httpx.AsyncClient(base_url=base, timeout=30,
                                         headers={"Authorization": f"Bearer {token}"}) as client:
                await _one(client, seen, rnd)  # warm-up: connections, plans, consumer assignment
                samples = [await _one(client, seen, rnd) for _ in range(args.incidents)]
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    print(json.dumps({
        "benchmark": "dispatch_raise", "volunteers": args.volunteers,
        "incidents": args.incidents, "need": 5, "called_per_incident": 10,
        "http_201": percentiles([h for h, _ in samples]),
        "raise_to_first_callout_on_kafka": percentiles([k for _, k in samples]),
    }, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
