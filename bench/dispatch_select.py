"""Selection latency: nearest 100 with every dispatch filter, beside the bare KNN query.

    python3 bench/dispatch_select.py --volunteers 1000000 --queries 300
    BAIYING_BENCH_KEEP_DB=1 python3 bench/dispatch_select.py ...   # keep the loaded database
    python3 bench/dispatch_select.py --reuse postgresql://.../baiying_bench_1234abcd

Prints one JSON object. Runs in a throwaway database (BAIYING_DATABASE_URL's server), or in a
kept one with `--reuse` (migrated again, not reloaded: a million rows take a minute to load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_common import LAT, LON, load_volunteers, percentiles, temp_database

from baiying_dispatcher.domain import Component
from baiying_dispatcher.index import Clock, explain_nearest, nearest, point
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import SERVER_SETTINGS
from baiying_shared.logging import configure_logging

BARE = """SELECT volunteer_id FROM responders WHERE callable
ORDER BY location <-> $1::geography LIMIT $2"""

# Every filter mix of the issue; the callable-now filters (availability, quiet hours, daily cap,
# live commitments) apply to all of them. A district is an eighteenth of the synthetic people,
# scattered (real districts are areas, so this is the harder case for a walk).
SHAPES: dict[str, tuple[Component, list[str] | None]] = {
    "any": (Component(), None), "team_patrol": (Component(team_type="patrol"), None),
    "skill_first_aid": (Component(skill="first_aid"), None),
    "information_officer": (Component(team_type="information_officer"), None),
    "information_officer_first_aid": (
        Component(team_type="information_officer", skill="first_aid"), None),
    "district": (Component(), ["360702"]),
    "patrol_in_two_districts": (Component(team_type="patrol"), ["360702", "360703"]),
    "first_aid_in_district": (Component(skill="first_aid"), ["360703"]),
    "patrol_first_aid_in_two_districts": (
        Component(team_type="patrol", skill="first_aid"), ["360702", "360703"]),
    "three_districts": (Component(), ["360702", "360704", "360781"]),
    "four_districts": (Component(), ["360702", "360703", "360704", "360781"]),
}
LIMIT_P99_MS = 10.0  # issue 13: selection p99 at 1,000,000 volunteers, every mix


class _Counting:
    """A connection that counts the statements `nearest` runs (one per ring)."""

    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self.conn, self.statements = conn, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        self.statements += 1
        return await self.conn.fetch(*args)


def _walks_an_index(plan: str) -> bool:
    """A KNN walk (ORDER BY <-> on an index), no scan or sort of the walked tables."""
    return "Order By: (location <->" in plan and not any(
        bad in plan for bad in ("Seq Scan on respon", "Bitmap Heap Scan on respon", "Sort "))


def _ms(plan: str, what: str) -> float | None:
    line = next((x for x in plan.splitlines() if x.startswith(what)), None)
    return float(line.split(":")[1].split()[0]) if line else None


def _points(n: int, seed: int) -> list[tuple[float, float]]:
    rnd = random.Random(seed)
    return [(rnd.uniform(*LAT), rnd.uniform(*LON)) for _ in range(n)]


async def _time(points: list[tuple[float, float]], run: Any) -> dict[str, float]:
    samples = []
    for lat, lon in points:
        t0 = time.perf_counter()
        await run(lat, lon)
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


async def measure(conn: asyncpg.Connection[Any], *, queries: int, limit: int, radius_m: int
                  ) -> dict[str, Any]:
    clock = Clock.at(datetime.now(UTC), "Asia/Shanghai")
    points = _points(queries, seed=7)
    out: dict[str, Any] = {}
    def bare(la: float, lo: float) -> Any:
        return conn.fetch(BARE, point(lat=la, lon=lo), limit)

    await _time(points[:20], bare)  # warm the cache
    out["bare_knn"] = await _time(points, bare)
    for name, (want, districts) in SHAPES.items():
        async def run(lat: float, lon: float, want: Component = want,
                      districts: list[str] | None = districts) -> Any:
            return await nearest(conn, lat=lat, lon=lon, radius_m=radius_m, clock=clock,
                                 limit=limit, want=want, districts=districts)
        await _time(_points(20, seed=11), run)  # this mix's statements prepared, pages read
        out[f"filtered_{name}"] = {**await _time(points, run), "limit_p99_ms": LIMIT_P99_MS}
        # Not timed, the same points again: how many needed more than one ring (statement);
        # a second ring costs about a first one, so more than 1 % of them sets the p99.
        counting = _Counting(conn)
        for lat, lon in points:
            counting.statements = 0
            await nearest(counting, lat=lat, lon=lon, radius_m=radius_m,  # type: ignore[arg-type]
                          clock=clock, limit=limit, want=want, districts=districts)
            out[f"filtered_{name}"]["second_ring"] = (
                out[f"filtered_{name}"].get("second_ring", 0) + (counting.statements > 1))
    lat, lon = points[0]
    plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + BARE, point(lat=lat, lon=lon), limit)
    out["bare_plan_uses_index"] = "responders_callable_knn" in json.dumps(plan)
    # The walk reads responders_callable_knn[_<team type>] or responder_facets_knn; never a scan.
    plans = {name: await explain_nearest(conn, lat=lat, lon=lon, radius_m=radius_m, clock=clock,
                                         limit=limit, want=want, districts=districts)
             for name, (want, districts) in SHAPES.items()}
    out["filtered_plans_walk_knn_index"] = {name: _walks_an_index(p) for name, p in plans.items()}
    analyzed = {name: await explain_nearest(conn, lat=lat, lon=lon, radius_m=radius_m,
                                            clock=clock, limit=limit, want=want,
                                            districts=districts, analyze=True)
                for name, (want, districts) in SHAPES.items()}
    out["first_ring_planning_execution_ms"] = {
        name: [_ms(p, "Planning Time"), _ms(p, "Execution Time")] for name, p in analyzed.items()}
    return out


@asynccontextmanager
async def _database(reuse: str | None) -> AsyncIterator[tuple[str, bool]]:
    """(url, needs loading): a kept database as it is, or a fresh throwaway one."""
    if reuse:
        yield reuse, False
        return
    async with temp_database() as url:
        yield url, True


async def main(args: argparse.Namespace) -> None:
    configure_logging(service="bench", level="WARNING", json=False)  # stdout is the JSON result
    async with _database(args.reuse) as (url, fresh):
        await migrate(url, schema="dispatcher", package="baiying_dispatcher")
        # The service pool's session settings (jit off): the selection no longer sets them itself.
        conn = await asyncpg.connect(
            url, server_settings={"search_path": "dispatcher,public", **SERVER_SETTINGS})
        try:
            t0 = time.perf_counter()
            if fresh:
                await load_volunteers(conn, args.volunteers)
            else:
                await conn.execute("ANALYZE responders")
                args.volunteers = await conn.fetchval("SELECT count(*) FROM responders")
            load_s = time.perf_counter() - t0
            callable_n = await conn.fetchval("SELECT count(*) FROM responders WHERE callable")
            result = await measure(conn, queries=args.queries, limit=args.limit,
                                   radius_m=args.radius_m)
        finally:
            await conn.close()
    print(json.dumps({
        "benchmark": "dispatch_select", "volunteers": args.volunteers, "callable": callable_n,
        "limit": args.limit, "radius_m": args.radius_m, "queries": args.queries,
        "load_s": round(load_s, 1), **result,
    }, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--radius-m", type=int, default=20_000)
    parser.add_argument("--reuse", metavar="URL", help="a kept, loaded database (not dropped)")
    asyncio.run(main(parser.parse_args()))
