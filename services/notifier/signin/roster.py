"""registry.volunteers.v1 into table volunteers: who is a volunteer, by phone.

Lets SMS sign-in work for a volunteer never called out, and tells a volunteer's 退订 from a
resident subscriber's. Compacted topic read from the start; upserts are revision-guarded
(a replay or a stale snapshot changes nothing); a tombstone deletes the row. Records are
applied in offset order, a poll in one transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from baiying_shared.deps import PgConn
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.kafka.consumer import Message

_UPSERT = """
INSERT INTO volunteers (volunteer_id, revision, phone, language, district, team_type, status)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[])
ON CONFLICT (volunteer_id) DO UPDATE SET revision = EXCLUDED.revision, phone = EXCLUDED.phone,
    language = EXCLUDED.language, district = EXCLUDED.district,
    team_type = EXCLUDED.team_type, status = EXCLUDED.status
WHERE volunteers.revision < EXCLUDED.revision
"""


async def apply(conn: PgConn, snapshots: list[VolunteerSnapshot]) -> None:
    """Upsert the newest snapshot per volunteer (one statement cannot touch a row twice)."""
    newest: dict[uuid.UUID, VolunteerSnapshot] = {}
    for s in snapshots:
        if s.volunteer_id not in newest or newest[s.volunteer_id].revision < s.revision:
            newest[s.volunteer_id] = s
    rows = list(newest.values())
    if rows:
        await conn.execute(
            _UPSERT,
            [s.volunteer_id for s in rows], [s.revision for s in rows], [s.phone for s in rows],
            [s.language for s in rows], [s.district for s in rows],
            [s.team_type.value for s in rows], [s.status for s in rows],
        )  # fmt: skip


async def on_batch(pool: asyncpg.Pool[Any], messages: list[Message]) -> None:
    """Snapshots and tombstones of one poll, in offset order, in one transaction."""
    run: list[VolunteerSnapshot] = []
    async with pool.acquire() as conn, conn.transaction():
        for m in messages:
            if m.envelope is not None and isinstance(m.envelope.payload, VolunteerSnapshot):
                run.append(m.envelope.payload)
            elif m.envelope is None and m.key:
                await apply(conn, run)
                run = []
                await _remove(conn, m.key)
        await apply(conn, run)


async def _remove(conn: PgConn, key: str) -> None:
    try:
        vid = uuid.UUID(key)
    except ValueError:  # not a key the registry writes: nothing of ours to delete
        return
    await conn.execute("DELETE FROM volunteers WHERE volunteer_id = $1", vid)
