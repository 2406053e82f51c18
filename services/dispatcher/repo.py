"""SQL for incidents, call-outs and the audit log (the write side)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.domain import (
    CalloutState,
    IncidentStatus,
    Need,
    Policy,
)
from baiying_shared.db import inbox
from baiying_shared.ids import new_id


@dataclass(frozen=True)
class Incident:
    id: uuid.UUID
    kind: str
    title: str
    description: str
    category: str
    address: str
    area: str
    district: str
    lat: float
    lon: float
    base_radius_m: int
    radius_m: int
    need: Need
    policy: Policy
    advice: str | None
    target_districts: list[str] | None
    status: IncidentStatus
    round: int
    next_round_at: datetime | None
    created_by: str
    created_at: datetime
    first_callout_at: datetime | None
    first_accept_at: datetime | None
    staffed_at: datetime | None
    unmet_at: datetime | None
    ended_at: datetime | None
    request_hash: str | None
    # The districts whose volunteers it may call (own first); their supervisors see it.
    draw_districts: tuple[str, ...] = ()

    @property
    def trace_id(self) -> str:
        return self.id.hex  # every event of one incident shares a trace


def need_json(need: Need) -> dict[str, Any]:
    return {"total": need.total, "teams": dict(need.teams), "skills": dict(need.skills)}


def policy_json(policy: Policy) -> dict[str, Any]:
    return {"rounds": policy.rounds, "widening": policy.widening, "wait_s": policy.wait_s}


def _incident(r: asyncpg.Record) -> Incident:
    n, p = r["need"], r["policy"]
    fields = {k: r[k] for k in Incident.__dataclass_fields__ if k not in ("need", "policy")}
    fields["status"] = IncidentStatus(r["status"])
    fields["draw_districts"] = tuple(r["draw_districts"] or (r["district"],))  # pre-0008 rows
    return Incident(
        **fields,
        need=Need(total=n["total"], teams=n["teams"], skills=n["skills"]),
        policy=Policy(rounds=p["rounds"], widening=p["widening"], wait_s=p["wait_s"]),
    )


_INCIDENT_COLS = """id, kind, title, description, category, address, area, district, lat, lon,
    base_radius_m, radius_m, need, policy, advice, target_districts, status, round,
    next_round_at, created_by, created_at, first_callout_at, first_accept_at, staffed_at,
    unmet_at, ended_at, request_hash, draw_districts"""


@dataclass(frozen=True)
class AuditEntry:
    """Who did what (the audit_log row), when it is written with the change it records."""

    actor: str
    role: str
    action: str
    detail: dict[str, Any]


async def insert_incident(
    conn: asyncpg.Connection[Any], *, values: dict[str, Any], idempotency_key: str | None,
    audit: AuditEntry | None = None,
) -> Incident | None:
    """Insert, with its `audit` row in the same statement; None if this creator already used
    `idempotency_key` (the caller replays; no audit row is written then)."""
    cols = [*values, "id", "idempotency_key"]
    args = [*values.values(), new_id(), idempotency_key]
    marks = ", ".join(f"${i}" for i in range(1, len(args) + 1))
    point = f"ST_SetSRID(ST_MakePoint(${cols.index('lon') + 1}, ${cols.index('lat') + 1}), 4326)"
    a = len(args)
    row = await conn.fetchrow(
        f"WITH made AS (INSERT INTO incidents ({', '.join(cols)}, location)"
        f" VALUES ({marks}, {point}::geography)"
        f" ON CONFLICT (created_by, idempotency_key) DO NOTHING RETURNING {_INCIDENT_COLS}),"
        " logged AS (INSERT INTO audit_log (actor, role, action, incident_id, detail)"
        f" SELECT ${a + 1}::text, ${a + 2}::text, ${a + 3}::text, id, ${a + 4}::jsonb FROM made"
        f" WHERE ${a + 1}::text IS NOT NULL) SELECT * FROM made",
        *args, *((audit.actor, audit.role, audit.action, audit.detail) if audit
                 else (None, None, None, None)),
    )
    return _incident(row) if row else None


async def find_by_key(
    conn: asyncpg.Connection[Any], *, created_by: str, idempotency_key: str
) -> Incident | None:
    row = await conn.fetchrow(
        f"SELECT {_INCIDENT_COLS} FROM incidents WHERE created_by = $1 AND idempotency_key = $2",
        created_by, idempotency_key,
    )
    return _incident(row) if row else None


async def get_incident(
    conn: asyncpg.Connection[Any], incident_id: uuid.UUID, *, lock: bool = False
) -> Incident | None:
    """One incident; `lock` serialises everything that changes it (replies, rounds, cancel)."""
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(
        f"SELECT {_INCIDENT_COLS} FROM incidents WHERE id = $1{suffix}", incident_id
    )
    return _incident(row) if row else None


async def incidents_where(
    conn: asyncpg.Connection[Any], *, districts: list[str] | None, status: str | None,
    limit: int,
) -> list[Incident]:
    """Newest first, seen by `districts` (None = all; see `visible`), in one query."""
    rows = await conn.fetch(
        f"SELECT {_INCIDENT_COLS} FROM incidents"
        " WHERE ($1::text[] IS NULL OR district = ANY($1::text[])"
        " OR draw_districts && $1::text[])"
        " AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC LIMIT $3",
        districts, status, limit,
    )
    return [_incident(r) for r in rows]


async def update_incident(
    conn: asyncpg.Connection[Any], incident_id: uuid.UUID, **changes: Any
) -> Incident:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    row = await conn.fetchrow(
        f"UPDATE incidents SET {sets} WHERE id = $1 RETURNING {_INCIDENT_COLS}",
        incident_id, *changes.values(),
    )
    assert row is not None
    return _incident(row)


@dataclass(frozen=True)
class Callout(Candidate):
    """The person as selection picked them (Candidate), plus this call's own state."""

    id: uuid.UUID
    incident_id: uuid.UUID
    rank: int
    round: int
    state: CalloutState
    delivery_status: str | None
    created_at: datetime
    accepted_at: datetime | None


_CALLOUT_COLS = """id, incident_id, volunteer_id, name, phone, team_type, skills, district,
    channels, language, lat, lon, distance_m, rank, round, state, delivery_status, created_at,
    accepted_at"""


def _callout(r: asyncpg.Record) -> Callout:
    fields = {k: r[k] for k in Callout.__dataclass_fields__}
    fields.update(skills=tuple(r["skills"]), channels=tuple(r["channels"]),
                  state=CalloutState(r["state"]))
    return Callout(**fields)


async def insert_callouts(
    conn: asyncpg.Connection[Any],
    *,
    incident_id: uuid.UUID,
    picks: Sequence[Candidate],
    round_no: int,
    first_rank: int,
    incident_fields: dict[str, Any] | None = None,
) -> list[Callout]:
    """One pending call-out per pick, ranked in the given (nearest-first) order: one statement
    for the lot, which returns the rows as written (no second read) and also sets the
    incident's `incident_fields` (columns) if any."""
    rows = [
        {"id": new_id(), "volunteer_id": c.volunteer_id, "name": c.name, "phone": c.phone,
         "team_type": c.team_type, "skills": list(c.skills), "district": c.district,
         "channels": list(c.channels), "language": c.language, "lat": c.lat, "lon": c.lon,
         "distance_m": c.distance_m, "rank": first_rank + i}
        for i, c in enumerate(picks)
    ]
    if not rows:
        return []
    fields = incident_fields or {}
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(fields, start=4))
    made = await conn.fetch(
        (f"WITH upd AS (UPDATE incidents SET {sets} WHERE id = $2) " if fields else "")
        + f"INSERT INTO callouts ({_PICK_COLS}, incident_id, round, state)"
        f" SELECT {_PICK_COLS}, $2, $3, 'pending' FROM jsonb_to_recordset($1::jsonb)"
        " AS p(id uuid, volunteer_id uuid, name text, phone text, team_type text,"
        " skills text[], district text, channels text[], language text,"
        " lat double precision, lon double precision, distance_m integer, rank integer)"
        f" RETURNING {_CALLOUT_COLS}",
        rows, incident_id, round_no, *fields.values(),
    )
    return sorted((_callout(r) for r in made), key=lambda c: c.rank)


_PICK_COLS = ("id, volunteer_id, name, phone, team_type, skills, district, channels, language,"
              " lat, lon, distance_m, rank")


async def callouts_of(
    conn: asyncpg.Connection[Any],
    *,
    incident_id: uuid.UUID,
    states: Sequence[str] | None = None,
    ids: Sequence[uuid.UUID] | None = None,
) -> list[Callout]:
    """The incident's call-outs, optionally only in `states` or with `ids`, by rank."""
    rows = await conn.fetch(
        f"SELECT {_CALLOUT_COLS} FROM callouts WHERE incident_id = $1"
        " AND ($2::text[] IS NULL OR state = ANY($2::text[]))"
        " AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[])) ORDER BY rank",
        incident_id, list(states) if states is not None else None,
        list(ids) if ids is not None else None,
    )
    return [_callout(r) for r in rows]


async def get_callout(conn: asyncpg.Connection[Any], callout_id: uuid.UUID) -> Callout | None:
    row = await conn.fetchrow(
        f"SELECT {_CALLOUT_COLS} FROM callouts WHERE id = $1 FOR UPDATE", callout_id
    )
    return _callout(row) if row else None


async def max_rank(conn: asyncpg.Connection[Any], incident_id: uuid.UUID) -> int:
    value = await conn.fetchval(
        "SELECT coalesce(max(rank), 0) FROM callouts WHERE incident_id = $1", incident_id
    )
    return int(value)


_STAMP = {
    CalloutState.delivered: "delivered_at", CalloutState.accepted: "accepted_at",
    CalloutState.declined: "answered_at", CalloutState.arrived: "arrived_at",
    CalloutState.stood_down: "stood_down_at",
}


async def set_state(
    conn: asyncpg.Connection[Any], ids: Sequence[uuid.UUID], state: CalloutState, *, at: datetime
) -> None:
    """Move call-outs to `state`, stamping the time that state is measured by."""
    stamp = _STAMP.get(state)
    extra = f", {stamp} = coalesce({stamp}, $3)" if stamp else ""
    if state == CalloutState.accepted:
        extra += ", answered_at = coalesce(answered_at, $3)"
    if state == CalloutState.arrived:  # arriving unannounced implies accepting
        extra += (", accepted_at = coalesce(accepted_at, $3),"
                  " answered_at = coalesce(answered_at, $3)")
    args = [list(ids), state.value, *([at] if extra else [])]
    await conn.execute(
        f"UPDATE callouts SET state = $2, updated_at = now(){extra} WHERE id = ANY($1::uuid[])",
        *args,
    )


async def set_delivery(
    conn: asyncpg.Connection[Any], callout_id: uuid.UUID, *, status: str, error: int | None
) -> None:
    await conn.execute(
        "UPDATE callouts SET delivery_status = $2, delivery_error = $3, updated_at = now()"
        " WHERE id = $1", callout_id, status, error,
    )


async def audit(
    conn: asyncpg.Connection[Any],
    *,
    actor: str,
    role: str,
    action: str,
    incident_id: uuid.UUID | None,
    detail: dict[str, Any],
) -> None:
    """Who did what, when: raise, cancel, close and manual changes."""
    await conn.execute(
        "INSERT INTO audit_log (actor, role, action, incident_id, detail) VALUES ($1,$2,$3,$4,$5)",
        actor, role, action, incident_id, detail,
    )


async def claim_with_incidents(
    conn: asyncpg.Connection[Any], *, event_ids: list[uuid.UUID], consumer: str,
    incident_ids: Sequence[uuid.UUID],
) -> tuple[set[uuid.UUID], dict[uuid.UUID, Incident]]:
    """A bulk poll's inbox claim and its incidents (unlocked) in one round trip: the ids
    seen for the first time, and the incidents by id."""
    fresh, rows = await inbox.claim_many_and_read(
        conn, event_ids=event_ids, consumer=consumer,
        read=f"SELECT {_INCIDENT_COLS} FROM incidents WHERE id = ANY($3::uuid[])",
        args=[list(incident_ids)],
    )
    return fresh, {r["id"]: _incident(r) for r in rows}


async def incidents_by_id(
    conn: asyncpg.Connection[Any], ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Incident]:
    """Several incidents in one read (a bulk poll's), without locking them."""
    rows = await conn.fetch(
        f"SELECT {_INCIDENT_COLS} FROM incidents WHERE id = ANY($1::uuid[])", list(ids)
    )
    return {r["id"]: _incident(r) for r in rows}


async def lock_callouts(
    conn: asyncpg.Connection[Any], ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Callout]:
    """Call-outs by id, locked in id order so two bulk partitions cannot deadlock."""
    rows = await conn.fetch(
        f"SELECT {_CALLOUT_COLS} FROM callouts WHERE id = ANY($1::uuid[]) ORDER BY id"
        " FOR UPDATE", sorted(set(ids)),
    )
    return {r["id"]: _callout(r) for r in rows}


async def set_deliveries(conn: asyncpg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows of (id, delivery_status, delivery_error, state, delivered_at) in one statement.

    A null delivery_status keeps status and error; a null state keeps the state; the
    delivered stamp keeps the first one, as set_state's coalesce does.
    """
    if not rows:
        return
    cols = list(zip(*rows, strict=True))
    await conn.execute(
        "UPDATE callouts c SET"
        " delivery_status = coalesce(u.ds, c.delivery_status),"
        " delivery_error = CASE WHEN u.ds IS NULL THEN c.delivery_error ELSE u.de END,"
        " state = coalesce(u.st, c.state),"
        " delivered_at = coalesce(c.delivered_at, u.dat), updated_at = now()"
        " FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::timestamptz[])"
        " AS u(id, ds, de, st, dat) WHERE c.id = u.id",
        *(list(col) for col in cols),
    )
