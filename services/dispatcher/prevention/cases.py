"""Turning a closed incident into a case for prevention, and the case library. No HTTP here."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from baiying_dispatcher.prevention.pii import scrub
from baiying_shared.deps import PgConn as Conn
from baiying_shared.errors import Conflict, InvalidField, NotFound

TEXT_FIELDS = ("title_zh", "account_zh", "advice_zh", "title_en", "account_en", "advice_en")


# A case's text limits, one home for the API and the library (the draft is the request body).
Title = Annotated[str, Field(min_length=2, max_length=60)]
Account = Annotated[str, Field(min_length=10, max_length=1000)]
Advice = Annotated[str, Field(min_length=5, max_length=500)]


@pydantic_dataclass(frozen=True)
class CaseDraft:
    """A short account of what happened and what to do (防范提示), in zh and optionally en:
    what a desk or supervisor writes about a closed incident."""

    incident_id: uuid.UUID
    title_zh: Title
    account_zh: Account
    advice_zh: Advice
    title_en: Title | None = None
    account_en: Account | None = None
    advice_en: Advice | None = None
    # Defaults to the incident's.
    category: Annotated[str | None, Field(min_length=2, max_length=40)] = None


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    incident_id: uuid.UUID | None
    district: str
    category: str
    texts: dict[str, str | None]
    removed: dict[str, int]
    created_by: str
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


def cleaned_texts(draft: CaseDraft) -> tuple[dict[str, str | None], dict[str, int]]:
    """Every text with personal data removed, and the count removed by kind.

    A number-like run the rules could not place (it may be an account or a phone written
    oddly) is refused, naming the field: better a desk rewrites a line than a case leaks.
    """
    texts: dict[str, str | None] = {}
    removed: Counter[str] = Counter()
    for name in TEXT_FIELDS:
        value = getattr(draft, name)
        if value is None:
            texts[name] = None
            continue
        cleaned = scrub(value)
        if cleaned.residual:
            raise InvalidField(name, "contains a long number that may identify someone; "
                                     "remove it or write it in words")
        texts[name] = cleaned.text
        removed.update(f.kind for f in cleaned.findings)
    return texts, dict(removed)


async def create_case(
    conn: Conn, *, draft: CaseDraft, may_act_in: set[str] | None, created_by: str
) -> Case:
    """Store a case for a closed incident the caller's districts cover (`None`: all)."""
    incident = await conn.fetchrow(
        "SELECT district, category, status FROM incidents WHERE id = $1", draft.incident_id)
    if incident is None or (may_act_in is not None and incident["district"] not in may_act_in):
        raise NotFound(f"no incident {draft.incident_id}")
    if incident["status"] != "closed":
        raise Conflict(f"incident {draft.incident_id} is {incident['status']}; close it first")
    texts, removed = cleaned_texts(draft)
    row = await conn.fetchrow(
        "INSERT INTO cases (id, incident_id, district, category, title_zh, account_zh, advice_zh,"
        " title_en, account_en, advice_en, removed, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (incident_id) DO NOTHING RETURNING *",
        uuid.uuid4(), draft.incident_id, incident["district"],
        draft.category or incident["category"], *(texts[n] for n in TEXT_FIELDS),
        removed, created_by)
    if row is None:
        raise Conflict(f"incident {draft.incident_id} already has a case")
    return _case(row)


async def get_case(conn: Conn, case_id: uuid.UUID, *, districts: list[str] | None) -> Case:
    row = await conn.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
    if row is None or (districts is not None and row["district"] not in districts):
        raise NotFound(f"no case {case_id}")
    return _case(row)


async def search_cases(
    conn: Conn, *, districts: list[str] | None, category: str | None, text: str | None,
    limit: int,
) -> list[Case]:
    """Newest first; `text` matches title, account or advice (trigram similarity or substring)."""
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE ($1::text[] IS NULL OR district = ANY($1))"
        " AND ($2::text IS NULL OR category = $2)"
        " AND ($3::text IS NULL OR (title_zh || ' ' || account_zh || ' ' || advice_zh)"
        "      ILIKE '%' || $3 || '%'"
        "      OR concat_ws(' ', title_en, account_en, advice_en) ILIKE '%' || $3 || '%')"
        " ORDER BY created_at DESC, id LIMIT $4",
        districts, category, _like_escaped(text), limit)
    return [_case(r) for r in rows]


def _like_escaped(text: str | None) -> str | None:
    """`text` as a literal inside ILIKE: its % and _ match themselves."""
    if text is None:
        return None
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _case(row: asyncpg.Record) -> Case:
    return Case(
        id=row["id"], incident_id=row["incident_id"], district=row["district"],
        category=row["category"], texts={n: row[n] for n in TEXT_FIELDS},
        removed=dict(row["removed"]), created_by=row["created_by"], created_at=row["created_at"],
    )
