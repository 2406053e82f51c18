"""Benchmark: the near query (GET /v1/volunteers?near=&radius_m=) at ~1,000,000 volunteers.

    python3 bench/registry_near.py [--scale 82] [--queries 200] [--keep]

Seeds the Ganzhou demo x scale (82 -> 998,678 people) into a scratch schema with the
production seed path (timed too), then runs the API's SQL for random points near the
division seats at several radii. Prints JSON. Uses BAIYING_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from typing import Any

import asyncpg

from baiying_registry import repo
from baiying_registry.config import RegistrySettings
from baiying_registry.reference import ganzhou
from baiying_registry.seed import seed_ganzhou

RADII_M = (500, 2_000, 10_000)


async def _latencies(conn: asyncpg.Connection[Any], radius: int, queries: int) -> dict[str, Any]:
    rng = random.Random(radius)
    seats = ganzhou().divisions
    times, found = [], []
    for _ in range(queries):
        d = rng.choice(seats)
        point = (d.seat_lat + rng.gauss(0, 0.03), d.seat_lon + rng.gauss(0, 0.03))
        q = repo.VolunteerQuery(near=point, radius_m=radius, limit=50)
        t = time.perf_counter()
        rows = await repo.list_volunteers(conn, q)
        times.append((time.perf_counter() - t) * 1000)
        found.append(len(rows))
    times.sort()
    return {"radius_m": radius, "queries": queries, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2), "mean_page_rows": round(statistics.mean(found), 1)}


async def _plan(conn: asyncpg.Connection[Any]) -> str:
    d = ganzhou().divisions[0]
    await conn.execute("SET jit = off")  # as the service pool's sessions run (SERVER_SETTINGS)
    rows = await conn.fetch(
        "EXPLAIN SELECT id FROM volunteers WHERE ST_DWithin(home,"
        " ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography, 10000, false) ORDER BY id LIMIT 51",
        d.seat_lat, d.seat_lon)
    return " | ".join(r[0].strip() for r in rows)


async def main(scale: int, queries: int, keep: bool, reuse: str | None) -> dict[str, Any]:
    schema = reuse or f"bench_near_{uuid.uuid4().hex[:6]}"
    settings = RegistrySettings(db_schema=schema)
    report = await seed_ganzhou(settings, seed=1, scale=scale)  # skips if `reuse` is seeded
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        settings.database_url.get_secret_value(),
        server_settings={"search_path": f"{schema},public"})
    try:
        await conn.execute("ANALYZE volunteers; ANALYZE teams")
        results = [await _latencies(conn, r, queries) for r in RADII_M]
        plan = await _plan(conn)
    finally:
        if not keep and not reuse:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
    return {"benchmark": "registry_near", "volunteers": report.volunteers, "teams": report.teams,
            "seed_s": report.seconds, "limit": 50, "results": results, "plan": plan}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=82)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    parser.add_argument("--reuse", help="a schema a --keep run left, to skip seeding")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.scale, args.queries, args.keep, args.reuse))))
