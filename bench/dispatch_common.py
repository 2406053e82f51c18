"""Shared by the dispatcher benchmarks: a throwaway database and a synthetic Ganzhou population."""

from __future__ import annotations

import os
import statistics
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

ADMIN_URL = os.environ.get(
    "BAIYING_DATABASE_URL", "postgresql://baiying:baiying@127.0.0.1:5432/baiying"
)
# Ganzhou's extent, roughly: the synthetic volunteers live inside this box.
LAT, LON = (24.5, 26.5), (114.0, 116.5)


@asynccontextmanager
async def temp_database() -> AsyncIterator[str]:
    """A fresh database with PostGIS, dropped afterwards (set BAIYING_BENCH_KEEP_DB to keep)."""
    name = f"baiying_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    await conn.close()
    try:
        yield url
    finally:
        if os.environ.get("BAIYING_BENCH_KEEP_DB"):
            print(f"[bench] kept database: {url}", file=sys.stderr)
        else:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


# About the mix of the seed data: most are patrol or security volunteers, a tenth know first
# aid (in every district and team: g / 18, not g, picks them), 70 % are on duty, a few are
# suspended, opted out or in quiet hours.
_LOAD = """
INSERT INTO responders (volunteer_id, revision, name, phone, team_id, team_type, district,
    location, skills, channels, reachable, language, active, on_duty, available_until,
    quiet_start, quiet_end, daily_alert_cap, callable, updated_at)
SELECT gen_random_uuid(), 1, 'v' || g, '+86139' || lpad(g::text, 8, '0'), gen_random_uuid(),
    (ARRAY['patrol','patrol','community_security','security_volunteer','building_watch',
           'information_officer','unit_guard'])[1 + (g % 7)],
    (ARRAY['360702','360703','360704','360722','360723','360724','360725','360726','360728',
           '360729','360730','360731','360732','360733','360734','360735','360781',
           '360783'])[1 + (g % 18)],
    ST_SetSRID(ST_MakePoint($3::float8 + random() * ($4::float8 - $3::float8),
                            $1::float8 + random() * ($2::float8 - $1::float8)), 4326),
    CASE WHEN (g / 18) % $7 = 0 THEN ARRAY['first_aid'] ELSE '{}'::text[] END,
    CASE WHEN g % 3 = 0 THEN ARRAY['sms','app'] ELSE ARRAY['sms'] END,
    CASE WHEN g % 50 = 0 THEN '{}'::text[]
         WHEN g % 3 = 0 THEN ARRAY['sms','app'] ELSE ARRAY['sms'] END,
    'zh', g % 40 <> 0, g % 10 < 7, NULL,
    CASE WHEN g % 20 = 0 THEN time '22:00' END, CASE WHEN g % 20 = 0 THEN time '07:00' END,
    10, g % 40 <> 0 AND g % 10 < 7 AND g % 50 <> 0, now()
FROM generate_series($5::bigint, $6::bigint) AS g
"""


async def load_volunteers(conn: asyncpg.Connection[Any], n: int, *, chunk: int = 100_000,
                          first_aid_every: int = 10) -> None:
    """Insert `n` synthetic volunteers in chunks, then refresh planner statistics."""
    for start in range(0, n, chunk):
        await conn.execute(_LOAD, *LAT, *LON, start, min(n, start + chunk) - 1, first_aid_every)
    await conn.execute("ANALYZE responders")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p99_ms": round(p99, 3),
            "max_ms": round(ordered[-1], 3), "n": len(ordered)}
