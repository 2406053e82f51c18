"""CSV import into the database: staged by COPY, upserted by phone in one set-based statement.

The whole file is one transaction, so a crash leaves nothing half-written. The upsert and
the outbox rows of its snapshots are one statement (RETURNING feeds the envelopes).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from baiying_registry import bulk_sql, repo
from baiying_registry.csvrows import CsvParser, Parsed, Rejected, Row
from baiying_registry.schemas import ImportReport, Rejection
from baiying_shared.events import volunteers as volunteer_events

Progress = Callable[[str], None]
TIMEOUT_S = 1800.0  # a million rows take tens of seconds; the pool's 30 s default is too short
CHUNK_ROWS = 50_000  # parsed while the previous chunk is written
_STAGING = """CREATE TEMP TABLE import_rows (
    line int, name text, phone text, team_id uuid, district text, lat float8, lon float8,
    skills text[], channels text[], language text, on_duty boolean, daily_alert_cap int,
    quiet_start time, quiet_end time, status text) ON COMMIT DROP"""
# Header column -> (stored columns) an update replaces; absent columns keep stored values.
_UPDATES = {
    "name": ("name",), "team_id": ("team_id", "district"), "lat": ("home",),
    "district": ("district",), "skills": ("skills",), "channels": ("channels",),
    "language": ("language",), "on_duty": ("on_duty",), "daily_alert_cap": ("daily_alert_cap",),
    "quiet_start": ("quiet_start", "quiet_end"), "status": ("status",),
}
_UPSERT = """
WITH up AS (
    INSERT INTO volunteers AS v (id, name, phone, team_id, district, home, skills, channels,
        language, on_duty, daily_alert_cap, quiet_start, quiet_end, status)
    SELECT uuid_v7(), s.name, s.phone, s.team_id, coalesce(s.district, tm.district),
        ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography, s.skills, s.channels,
        s.language, s.on_duty, s.daily_alert_cap, s.quiet_start, s.quiet_end, s.status
    FROM import_rows s JOIN teams tm ON tm.id = s.team_id  -- unknown teams are reported
    ON CONFLICT (phone) DO UPDATE SET {sets}, revision = v.revision + 1, updated_at = now()
    WHERE ({old}) IS DISTINCT FROM ({new})
    RETURNING {returning}, (v.xmax = 0) AS inserted),
events AS (
    INSERT INTO outbox (topic, key, value, event_id)
    SELECT $1, r.id::text, {envelope}, r.event_id
    FROM (SELECT up.*, gen_random_uuid() AS event_id FROM up) r JOIN teams t ON t.id = r.team_id)
SELECT count(*) FILTER (WHERE inserted) AS created,
       count(*) FILTER (WHERE NOT inserted) AS updated FROM up"""


def _upsert_sql(columns: tuple[str, ...]) -> str:
    """The upsert for a file with these header columns."""
    stored = sorted({c for col in columns for c in _UPDATES.get(col, ())})
    compare = [("ST_AsBinary(v.home)", "ST_AsBinary(EXCLUDED.home)") if c == "home"
               else (f"v.{c}", f"EXCLUDED.{c}") for c in stored]
    return _UPSERT.format(
        sets=", ".join(f"{c} = EXCLUDED.{c}" for c in stored),
        old=", ".join(o for o, _ in compare), new=", ".join(n for _, n in compare),
        returning=bulk_sql.RETURNING,
        envelope=bulk_sql.volunteer_envelope(
            "r", team_type="t.type", event_id="r.event_id", trace_id="$2"),
    )


@dataclass
class _Tally:
    received: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unknown_team: int = 0
    rejected: list[Rejected] = field(default_factory=list)


async def import_parsed(
    conn: repo.Conn, *, parsed: Parsed, progress: Progress | None = None,
    trace_id: str | None = None,
) -> ImportReport:
    """Write an already parsed file's valid rows and their snapshots, in one transaction."""
    chunks = iter([parsed])
    return await import_chunks(conn, next_chunk=lambda: next(chunks, None), progress=progress,
                               trace_id=trace_id, parse_in_thread=False)


async def import_stream(
    conn: repo.Conn, *, parser: CsvParser, chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None, trace_id: str | None = None,
) -> ImportReport:
    """Parse and write chunk by chunk, in one transaction: while the database upserts one
    chunk, the next is parsed in a thread (two cores, both busy)."""
    return await import_chunks(conn, next_chunk=lambda: parser.chunk(chunk_rows),
                               progress=progress, trace_id=trace_id, parse_in_thread=True)


async def import_chunks(
    conn: repo.Conn, *, next_chunk: Callable[[], Parsed | None], progress: Progress | None,
    trace_id: str | None, parse_in_thread: bool,
) -> ImportReport:
    """Write every chunk `next_chunk` yields; all or nothing (MalformedCsv rolls back too)."""
    say = progress or (lambda _: None)
    trace = trace_id or repo.current_trace_id() or uuid.uuid4().hex  # one import, one trace
    tally = _Tally()

    async def parse_next() -> Parsed | None:
        return await asyncio.to_thread(next_chunk) if parse_in_thread else next_chunk()

    async with conn.transaction():
        await conn.execute(_STAGING)
        pending = asyncio.ensure_future(parse_next())
        try:
            while (chunk := await pending) is not None:
                pending = asyncio.ensure_future(parse_next())
                await _write_chunk(conn, chunk, trace, tally)
                say(f"rows {tally.received:,}: {tally.created:,} created,"
                    f" {tally.updated:,} updated, {len(tally.rejected):,} problems")
        finally:
            if not pending.done():
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
        await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")
    return _report(tally)


async def _write_chunk(conn: repo.Conn, chunk: Parsed, trace: str, tally: _Tally) -> None:
    """Stage one chunk by COPY and upsert it with its snapshots (one statement)."""
    await conn.execute("TRUNCATE import_rows")
    await conn.copy_records_to_table(
        "import_rows", records=chunk.rows, columns=list(Row._fields), timeout=TIMEOUT_S
    )
    unknown = await conn.fetch(
        "SELECT line, team_id FROM import_rows s"
        " WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.team_id)", timeout=TIMEOUT_S,
    )
    counts = await conn.fetchrow(
        _upsert_sql(chunk.columns), volunteer_events.TOPIC, trace, timeout=TIMEOUT_S
    )
    tally.received += chunk.received
    tally.valid += len(chunk.rows)
    tally.created += counts["created"]
    tally.updated += counts["updated"]
    tally.unknown_team += len(unknown)
    tally.rejected += chunk.rejected
    tally.rejected += (Rejected(r["line"], "team_id", f"no team {r['team_id']}") for r in unknown)


def _report(t: _Tally) -> ImportReport:
    t.rejected.sort(key=lambda r: r.line)
    return ImportReport(
        received=t.received, imported=t.created + t.updated, created=t.created,
        updated=t.updated, unchanged=t.valid - t.unknown_team - t.created - t.updated,
        rejected=[Rejection(line=r.line, field=r.field, reason=r.reason) for r in t.rejected],
    )
