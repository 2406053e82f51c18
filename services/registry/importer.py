"""CSV import into the database: staged by COPY, upserted by phone in one set-based statement.

The whole file is one transaction, so a crash leaves nothing half-written. The upsert and
the outbox rows of its snapshots are one statement (RETURNING feeds the envelopes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from baiying_registry import bulk_sql, repo
from baiying_registry.csvrows import Parsed, Rejected, Row
from baiying_registry.schemas import ImportReport, Rejection
from baiying_shared.events import volunteers as volunteer_events

Progress = Callable[[str], None]
TIMEOUT_S = 1800.0  # a million rows take tens of seconds; the pool's 30 s default is too short
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


async def import_parsed(
    conn: repo.Conn, *, parsed: Parsed, progress: Progress | None = None,
    trace_id: str | None = None,
) -> ImportReport:
    """Write the parsed file's valid rows and their snapshots; report rejections too."""
    say = progress or (lambda _: None)
    trace = trace_id or repo.current_trace_id() or uuid.uuid4().hex  # one import, one trace
    async with conn.transaction():
        await conn.execute(_STAGING)
        await conn.copy_records_to_table(
            "import_rows", records=parsed.rows, columns=list(Row._fields), timeout=TIMEOUT_S
        )
        say(f"staged {len(parsed.rows):,} rows")
        unknown = await conn.fetch(
            "SELECT line, team_id FROM import_rows s"
            " WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.team_id)", timeout=TIMEOUT_S,
        )
        counts = await conn.fetchrow(
            _upsert_sql(parsed.columns), volunteer_events.TOPIC, trace, timeout=TIMEOUT_S
        )
        await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")
        say(f"upserted: {counts['created']:,} created, {counts['updated']:,} updated")
    rejected = [*parsed.rejected,
                *(Rejected(r["line"], "team_id", f"no team {r['team_id']}") for r in unknown)]
    return _report(parsed, counts["created"], counts["updated"], len(unknown), rejected)


def _report(parsed: Parsed, created: int, updated: int, unknown: int,
            rejected: list[Rejected]) -> ImportReport:
    rejected.sort(key=lambda r: r.line)
    return ImportReport(
        received=parsed.received, imported=created + updated, created=created, updated=updated,
        unchanged=len(parsed.rows) - unknown - created - updated,
        rejected=[Rejection(line=r.line, field=r.field, reason=r.reason) for r in rejected],
    )
