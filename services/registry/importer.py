"""CSV import into the database: new people copied straight in, known phones merged by SQL.

The whole file is one transaction, so a crash leaves nothing half-written. New people are
COPYed into `volunteers` with ids made here, and their snapshot envelopes built here are
COPYed into the outbox (the database was the import's bottleneck, the Python core half idle).
Until a stored phone turns up, a chunk is copied without asking (the unique index refuses a
stored phone and a savepoint undoes that chunk); then each chunk is split: stored phones go
through a staging table and one set-based upsert whose RETURNING feeds the envelopes in SQL.
While chunks are mostly stored phones (a re-import), the whole chunk takes the upsert. A
phone stored by someone else between the split and the COPY sends the chunk to the upsert.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from baiying_registry import bulk_sql, repo
from baiying_registry.csvrows import CsvParser, Parsed, Rejected, Row, rare_collections
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
    FROM import_rows s JOIN teams tm ON tm.id = s.team_id
    ON CONFLICT (phone) DO UPDATE SET {sets}, revision = v.revision + 1, updated_at = now()
    WHERE ({old}) IS DISTINCT FROM ({new})
    RETURNING {returning}, (v.xmax = 0) AS inserted),
events AS (
    INSERT INTO outbox (topic, key, value, event_id)
    SELECT $1, r.id::text, {envelope}, r.event_id
    FROM (SELECT up.*, gen_random_uuid() AS event_id FROM up) r JOIN teams t ON t.id = r.team_id)
SELECT count(*) FILTER (WHERE inserted) AS created,
       count(*) FILTER (WHERE NOT inserted) AS updated FROM up"""
# What a new person's COPY fills; revision, flags and timestamps take the table's defaults.
_NEW = ["id", "name", "phone", "team_id", "district", "home", "skills", "channels", "language",
        "on_duty", "daily_alert_cap", "quiet_start", "quiet_end", "status"]
_EWKB_POINT = struct.Struct("<BIIdd")  # little-endian, Point with SRID, 4326, lon, lat
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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


@dataclass(frozen=True)
class _Team:
    type: str
    district: str
    text: str  # the id as the snapshot spells it


@dataclass
class _Run:
    """One import: its trace id, its transaction's now() (every row's updated_at), its tally."""

    trace: str
    now: datetime
    tally: _Tally = field(default_factory=_Tally)
    stored: float | None = None  # share of stored phones in the last chunk; None: none met


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
    """Parse and write chunk by chunk, in one transaction: while the database writes one
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

    async def parse_next() -> Parsed | None:
        return await asyncio.to_thread(next_chunk) if parse_in_thread else next_chunk()

    async with _bulk_session(conn), conn.transaction():
        run = _Run(trace, await conn.fetchval("SELECT now()"))
        await conn.execute(_STAGING)
        pending = asyncio.ensure_future(parse_next())
        try:
            while (chunk := await pending) is not None:
                pending = asyncio.ensure_future(parse_next())
                await _write_chunk(conn, chunk, run)
                t = run.tally
                say(f"rows {t.received:,}: {t.created:,} created,"
                    f" {t.updated:,} updated, {len(t.rejected):,} problems")
        finally:
            if not pending.done():
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
        await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")
    return _report(run.tally)


@asynccontextmanager
async def _bulk_session(conn: repo.Conn) -> AsyncIterator[None]:
    """While inside, a (lat, lon) pair is sent as a geography in COPY's binary form (EWKB),
    and the garbage collector runs rarely."""
    schema = await conn.fetchval(
        "SELECT typnamespace::regnamespace::text FROM pg_type WHERE oid = 'geography'::regtype")
    await conn.set_type_codec("geography", schema=schema, format="binary", decoder=bytes,
                              encoder=lambda p: _EWKB_POINT.pack(1, 0x20000001, 4326, p[1], p[0]))
    try:
        with rare_collections():
            yield
    finally:
        if not conn.is_closed():  # the pool's next user reads geography as before
            await conn.reset_type_codec("geography", schema=schema)


async def _write_chunk(conn: repo.Conn, chunk: Parsed, run: _Run) -> None:
    """New phones by COPY, stored ones by the upsert; rows of unknown teams are rejected."""
    teams = await _teams(conn, {r.team_id for r in chunk.rows})
    created, updated = await _write_known(
        conn, [r for r in chunk.rows if r.team_id in teams], chunk.columns, teams, run)
    tally = run.tally
    tally.created += created
    tally.updated += updated
    unknown = [r for r in chunk.rows if r.team_id not in teams]
    tally.received += chunk.received
    tally.valid += len(chunk.rows)
    tally.unknown_team += len(unknown)
    tally.rejected += chunk.rejected
    tally.rejected += (Rejected(r.line, "team_id", f"no team {r.team_id}") for r in unknown)


async def _write_known(conn: repo.Conn, rows: list[Row], columns: tuple[str, ...],
                       teams: dict[uuid.UUID, _Team], run: _Run) -> tuple[int, int]:
    """(created, updated). Until a stored phone turns up, a chunk is COPYed without asking
    (the unique index answers); then a chunk is split first, or, while chunks are mostly
    stored phones (a re-import), upserted whole without asking."""
    if not rows:
        return 0, 0
    if run.stored is None:
        if await _copy_new(conn, rows, teams, run):
            return len(rows), 0
        run.stored = 1.0
    if run.stored >= 0.5:
        counts = await _merge(conn, rows, columns, run.trace)
        run.stored = 1 - counts["created"] / len(rows)
        return counts["created"], counts["updated"]
    stored = await _stored_phones(conn, [r.phone for r in rows])
    run.stored = len(stored) / len(rows)
    new = [r for r in rows if r.phone not in stored]
    merge = [r for r in rows if r.phone in stored]
    created = len(new) if new and await _copy_new(conn, new, teams, run) else 0
    if not created:
        merge += new
    if not merge:
        return created, 0
    counts = await _merge(conn, merge, columns, run.trace)
    return created + counts["created"], counts["updated"]


async def _stored_phones(conn: repo.Conn, phones: list[str]) -> set[str]:
    """Which of these phones are stored already (their rows are updated, not created)."""
    rows = await conn.fetch("SELECT phone FROM volunteers WHERE phone = ANY($1::text[])",
                            phones, timeout=TIMEOUT_S)
    return {r["phone"] for r in rows}


async def _teams(conn: repo.Conn, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Team]:
    """The chunk's teams that exist, read now (a team made meanwhile counts, as in SQL)."""
    rows = await conn.fetch("SELECT id, type, district FROM teams WHERE id = ANY($1::uuid[])",
                            list(ids))
    return {r["id"]: _Team(r["type"], r["district"], str(r["id"])) for r in rows}


async def _copy_new(conn: repo.Conn, rows: list[Row], teams: dict[uuid.UUID, _Team],
                    run: _Run) -> bool:
    """COPY people whose phone was not stored, and their snapshots; False (nothing written)
    if one of the phones was stored by someone else in the meantime."""
    ids, districts = _uuid7s(len(rows)), [r.district or teams[r.team_id].district for r in rows]
    people = ((v, r.name, r.phone, r.team_id, d, (r.lat, r.lon), r.skills, r.channels,
               r.language, r.on_duty, r.daily_alert_cap, r.quiet_start, r.quiet_end, r.status)
              for v, d, r in zip(ids, districts, rows, strict=True))
    events = _uuid7s(len(rows))
    envelopes = _envelopes(rows, ids, events, districts, teams, run)
    topic = volunteer_events.TOPIC
    try:
        async with conn.transaction():  # a savepoint: a phone taken meanwhile undoes only this
            await conn.copy_records_to_table("volunteers", records=people, columns=_NEW,
                                             timeout=TIMEOUT_S)
            await conn.copy_records_to_table(
                "outbox", columns=["topic", "key", "value", "event_id"], timeout=TIMEOUT_S,
                records=zip([topic] * len(rows), ids, envelopes, events, strict=True))
    except asyncpg.UniqueViolationError:
        return False
    return True


def _uuid7s(n: int) -> list[str]:
    """n UUIDv7 texts of this millisecond with random tails, as baiying_shared.ids.new_id."""
    ms = f"{time.time_ns() // 1_000_000 & (1 << 48) - 1:012x}"
    head, h = f"{ms[:8]}-{ms[8:]}-7", os.urandom(10 * n).hex()
    return [f"{head}{h[i:i + 3]}-{_VARIANT[h[i + 3]]}{h[i + 4:i + 7]}-{h[i + 7:i + 19]}"
            for i in range(0, 20 * n, 20)]


def _envelopes(rows: Sequence[Row], ids: list[str], events: list[str], districts: list[str],
               teams: dict[uuid.UUID, _Team], run: _Run) -> Iterator[bytes]:
    """The volunteer.snapshot envelopes of new people, as encode(wrap(snapshot)) reads."""
    stamp, trace, lists = _dumps(run.now.isoformat()), _dumps(run.trace), _ListJson()
    for v, e, d, r in zip(ids, events, districts, rows, strict=True):
        team = teams[r.team_id]
        quiet = ("null" if r.quiet_start is None else
                 f'{{"start":"{r.quiet_start}","end":"{r.quiet_end}"}}')
        yield (
            f'{{"event_id":"{e}","type":"volunteer.snapshot","schema_version":1,'
            f'"occurred_at":{stamp},"producer":"registry","trace_id":{trace},"payload":{{'
            f'"volunteer_id":"{v}","revision":1,"name":{_dumps(r.name)},'
            f'"phone":{_dumps(r.phone)},"team_id":"{team.text}","team_type":"{team.type}",'
            f'"district":"{d}","home":{{"lat":{r.lat!r},"lon":{r.lon!r}}},'
            f'"skills":{lists(r.skills)},"channels":{lists(r.channels)},'
            f'"language":"{r.language}","on_duty":{"true" if r.on_duty else "false"},'
            f'"available_until":null,"quiet_hours":{quiet},'
            f'"daily_alert_cap":{r.daily_alert_cap},"sms_opt_out":false,"phone_flag":null,'
            f'"status":"{r.status}","updated_at":{stamp}}}}}'
        ).encode()


class _ListJson(dict[tuple[str, ...], str]):
    """JSON of a list of words, made once per distinct list (a file repeats a few)."""

    def __call__(self, words: list[str]) -> str:
        key = tuple(words)
        if (text := self.get(key)) is None:
            text = self[key] = _dumps(words)
        return text


async def _merge(conn: repo.Conn, rows: list[Row], columns: tuple[str, ...],
                 trace: str) -> asyncpg.Record:
    """Stage rows by COPY and upsert them with their snapshots (one statement)."""
    await conn.execute("TRUNCATE import_rows")
    await conn.copy_records_to_table(
        "import_rows", records=rows, columns=list(Row._fields), timeout=TIMEOUT_S
    )
    counts: asyncpg.Record = await conn.fetchrow(
        _upsert_sql(columns), volunteer_events.TOPIC, trace, timeout=TIMEOUT_S
    )
    return counts


def _report(t: _Tally) -> ImportReport:
    t.rejected.sort(key=lambda r: r.line)
    return ImportReport(
        received=t.received, imported=t.created + t.updated, created=t.created,
        updated=t.updated, unchanged=t.valid - t.unknown_team - t.created - t.updated,
        rejected=[Rejection(line=r.line, field=r.field, reason=r.reason) for r in t.rejected],
    )
