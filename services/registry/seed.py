"""`baiying seed ganzhou`: the document's teams and members, bulk-loaded in one transaction."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from baiying_registry import bulk_sql, seedgen
from baiying_registry.config import RegistrySettings
from baiying_registry.reference import ganzhou
from baiying_shared.db.migrate import migrate
from baiying_shared.events import teams as team_events
from baiying_shared.events import volunteers as volunteer_events

DATASET = "ganzhou"
CHUNK = 100_000
TIMEOUT_S = 1800.0
_STAGING = """CREATE TEMP TABLE seed_people (
    id uuid, name text, phone text, team_id uuid, district text, lat float8, lon float8,
    skills text[], channels text[], on_duty boolean, daily_alert_cap int,
    quiet_start time, quiet_end time) ON COMMIT DROP"""
_PEOPLE = f"""
WITH v AS (
    INSERT INTO volunteers AS v (id, name, phone, team_id, district, home, skills, channels,
        on_duty, daily_alert_cap, quiet_start, quiet_end)
    SELECT id, name, phone, team_id, district,
        ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, skills, channels, on_duty,
        daily_alert_cap, quiet_start, quiet_end
    FROM seed_people
    RETURNING {bulk_sql.RETURNING})
INSERT INTO outbox (topic, key, value, event_id)
SELECT $1, r.id::text, {bulk_sql.volunteer_envelope(
    "r", team_type="t.type", event_id="r.event_id", trace_id="$2")}, r.event_id
FROM (SELECT v.*, gen_random_uuid() AS event_id FROM v) r JOIN teams t ON t.id = r.team_id"""
_TEAM_EVENTS = f"""
INSERT INTO outbox (topic, key, value, event_id)
SELECT $1, t.id::text, {bulk_sql.team_envelope("t", event_id="t.event_id", trace_id="$2")},
    t.event_id
FROM (SELECT *, gen_random_uuid() AS event_id FROM teams WHERE id = ANY($3::uuid[])) t"""


@dataclass(frozen=True)
class SeedReport:
    dataset: str
    seed: int
    scale: int
    teams: int
    volunteers: int
    skipped: bool
    seconds: float
    message: str


async def seed_ganzhou(
    settings: RegistrySettings,
    *,
    seed: int = 1,
    scale: int = 1,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Load the Ganzhou demo (x scale) unless a Ganzhou seed is already there."""
    say = progress or (lambda _: None)
    start = time.monotonic()
    dsn = settings.database_url.get_secret_value()
    await migrate(dsn, schema=settings.db_schema, package="baiying_registry")
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        dsn, server_settings={"search_path": f"{settings.db_schema},public"}
    )
    try:
        async with conn.transaction():
            report = await _seed(conn, seed=seed, scale=scale, say=say)
    finally:
        await conn.close()
    return _with_time(report, time.monotonic() - start)


async def _seed(
    conn: asyncpg.Connection[Any], *, seed: int, scale: int, say: Callable[[str], None]
) -> SeedReport:
    ref = ganzhou()
    teams = seedgen.plan_teams(ref, seed=seed, scale=scale)
    people = sum(t.size for t in teams)
    # Claiming the dataset first makes a concurrent second seeder wait here, then skip.
    claimed = await conn.fetchval(
        "INSERT INTO seed_runs (dataset, seed, scale, teams, volunteers)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset) DO NOTHING RETURNING 1",
        DATASET, seed, scale, len(teams), people,
    )
    if not claimed:
        row = await conn.fetchrow("SELECT * FROM seed_runs WHERE dataset = $1", DATASET)
        message = (f"already seeded: {row['teams']:,} teams, {row['volunteers']:,} volunteers"
                   f" (seed {row['seed']}, scale {row['scale']},"
                   f" {row['seeded_at']:%Y-%m-%d %H:%M}); skipped")
        say(message)
        return SeedReport(DATASET, row["seed"], row["scale"], row["teams"], row["volunteers"],
                          True, 0.0, message)
    await conn.copy_records_to_table(
        "teams", columns=["id", "name", "type", "district", "community", "leader_volunteer_id"],
        records=[(t.id, t.name, t.type, t.district, t.community, t.leader_id) for t in teams],
        timeout=TIMEOUT_S,
    )
    say(f"teams: {len(teams):,}")
    trace = uuid.uuid4().hex  # one seed, one trace
    await _queue_team_events(conn, [t.id for t in teams], trace, say=say)
    await _load_people(conn, ref, teams, seed=seed, total=people, trace=trace, say=say)
    await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")
    message = f"seeded {len(teams):,} teams and {people:,} volunteers (seed {seed}, scale {scale})"
    say(message)
    return SeedReport(DATASET, seed, scale, len(teams), people, False, 0.0, message)


async def _load_people(conn: asyncpg.Connection[Any], ref: Any, teams: list[seedgen.SeedTeam],
                       *, seed: int, total: int, trace: str, say: Callable[[str], None]) -> None:
    """COPY the generated people into staging in chunks, then insert them and their
    snapshots in one set-based statement."""
    await conn.execute(_STAGING)
    people = seedgen.volunteers(ref, teams, seed=seed)
    done = 0
    while chunk := list(itertools.islice(people, CHUNK)):
        await conn.copy_records_to_table(
            "seed_people", records=chunk, columns=list(seedgen.SeedVolunteer._fields),
            timeout=TIMEOUT_S,
        )
        done += len(chunk)
        say(f"volunteers staged: {done:,} / {total:,}")
    await conn.execute(_PEOPLE, volunteer_events.TOPIC, trace, timeout=TIMEOUT_S)
    say(f"volunteers inserted, snapshots queued: {total:,}")


async def _queue_team_events(conn: asyncpg.Connection[Any], team_ids: list[Any], trace: str,
                             *, say: Callable[[str], None]) -> None:
    """Snapshots of every seeded team, built in SQL, into the outbox."""
    await conn.execute(_TEAM_EVENTS, team_events.TOPIC, trace, team_ids, timeout=TIMEOUT_S)
    say(f"team snapshots queued: {len(team_ids):,}")


def _with_time(report: SeedReport, seconds: float) -> SeedReport:
    return SeedReport(report.dataset, report.seed, report.scale, report.teams, report.volunteers,
                      report.skipped, round(seconds, 2), report.message)
