"""Campaign tables: campaigns, their runs and messages. SQL only."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher.prevention.campaign_model import AudienceIn, ScheduleIn
from baiying_shared.deps import PgConn as Conn
from baiying_shared.errors import NotFound

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Campaign:
    id: uuid.UUID
    name: str
    case_id: uuid.UUID | None
    texts: dict[str, str]  # title_zh, advice_zh, title_en, advice_en
    audience: AudienceIn
    schedule: ScheduleIn
    districts: list[str]  # scope; empty = every district
    status: str
    next_run_at: datetime | None
    created_by: str
    created_at: datetime

    def visible_to(self, allowed: Sequence[str] | None) -> bool:
        """Staff see a campaign only if every district it reaches is theirs."""
        return allowed is None or (bool(self.districts) and set(self.districts) <= set(allowed))

    def text(self, language: str) -> tuple[str, str]:
        lang = language if language in LANGUAGES else "zh"
        return self.texts[f"title_{lang}"], self.texts[f"advice_{lang}"]


@dataclass(frozen=True)
class Run:
    id: uuid.UUID
    due_at: datetime
    started_at: datetime
    outcome: str
    volunteers: int
    quiet_skipped: int
    residents: bool


async def insert(conn: Conn, c: Campaign) -> None:
    await conn.execute(
        "INSERT INTO campaigns (id, name, case_id, title_zh, advice_zh, title_en, advice_en,"
        " audience, schedule, districts, status, next_run_at, created_by, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        c.id, c.name, c.case_id, c.texts["title_zh"], c.texts["advice_zh"], c.texts["title_en"],
        c.texts["advice_en"], c.audience.model_dump(mode="json"),
        c.schedule.model_dump(mode="json"), c.districts, c.status, c.next_run_at, c.created_by,
        c.created_at)


async def get(conn: Conn, campaign_id: uuid.UUID, *, allowed: Sequence[str] | None) -> Campaign:
    """One campaign the caller may see (else 404: not told apart from none)."""
    row = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
    found = None if row is None else parse(row)
    if found is None or not found.visible_to(allowed):
        raise NotFound(f"no campaign {campaign_id}")
    return found


async def listed(conn: Conn, *, allowed: Sequence[str] | None, limit: int) -> list[Campaign]:
    """Newest first, only those wholly within `allowed` (None = all)."""
    rows = await conn.fetch(
        "SELECT * FROM campaigns WHERE $1::text[] IS NULL"
        " OR (cardinality(districts) > 0 AND districts <@ $1::text[])"
        " ORDER BY created_at DESC LIMIT $2", None if allowed is None else list(allowed), limit)
    return [parse(r) for r in rows]


async def runs(conn: Conn, campaign_id: uuid.UUID) -> list[Run]:
    rows = await conn.fetch(
        "SELECT id, due_at, started_at, outcome, volunteers, quiet_skipped, residents"
        " FROM campaign_runs WHERE campaign_id = $1 ORDER BY due_at", campaign_id)
    return [Run(**dict(r)) for r in rows]


async def lock_due(conn: Conn, *, now: datetime,
                   skip: Collection[uuid.UUID] = ()) -> asyncpg.Record | None:
    """The earliest due active campaign not in `skip`, locked; instances skip each other's
    locked rows."""
    row = await conn.fetchrow(
        "SELECT * FROM campaigns WHERE status = 'active' AND next_run_at <= $1"
        " AND id <> ALL($2::uuid[]) ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        now, list(skip))
    return row  # parsed by the caller, so a row that does not parse is known by its id


async def add_run(conn: Conn, *, campaign_id: uuid.UUID, run: Run) -> bool:
    """Record a run; False if this due time already fired (the unique key)."""
    done = await conn.fetchval(
        "INSERT INTO campaign_runs (id, campaign_id, due_at, started_at, outcome, volunteers,"
        " quiet_skipped, residents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (campaign_id, due_at) DO NOTHING RETURNING true",
        run.id, campaign_id, run.due_at, run.started_at, run.outcome, run.volunteers,
        run.quiet_skipped, run.residents)
    return bool(done)


async def add_messages(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    """(message_id, run_id, campaign_id, volunteer_id, district, team_type, language) rows."""
    await conn.copy_records_to_table(
        "campaign_messages", records=rows,
        columns=["message_id", "run_id", "campaign_id", "volunteer_id", "district",
                 "team_type", "language"])


async def advance(conn: Conn, campaign_id: uuid.UUID, *, next_run_at: datetime | None) -> None:
    """Set the next due time; a campaign with none left is done."""
    await conn.execute(
        "UPDATE campaigns SET next_run_at = $2,"
        " status = CASE WHEN $2::timestamptz IS NULL THEN 'done' ELSE status END WHERE id = $1",
        campaign_id, next_run_at)


async def cancel(conn: Conn, campaign_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE campaigns SET status = 'cancelled', next_run_at = NULL"
        " WHERE id = $1 AND status = 'active'", campaign_id)


def parse(r: asyncpg.Record) -> Campaign:
    """A campaigns row as a Campaign (raises ValidationError for a malformed audience/schedule)."""
    return Campaign(
        id=r["id"], name=r["name"], case_id=r["case_id"],
        texts={k: r[k] for k in ("title_zh", "advice_zh", "title_en", "advice_en")},
        audience=AudienceIn.model_validate(r["audience"]),
        schedule=ScheduleIn.model_validate(r["schedule"]), districts=list(r["districts"]),
        status=r["status"], next_run_at=r["next_run_at"], created_by=r["created_by"],
        created_at=r["created_at"])
