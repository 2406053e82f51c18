"""The responder index: the registry's volunteers as a PostGIS table, and their selection.

Nearest-N selection (rings of KNN walks) lives in walk.py; it is re-exported here with the
row pieces it shares with the advisory audience (candidates.py), for existing callers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from baiying_dispatcher.candidates import COLUMNS as _COLUMNS
from baiying_dispatcher.candidates import QUIET_SQL as _QUIET_SQL
from baiying_dispatcher.candidates import Candidate as Candidate
from baiying_dispatcher.candidates import candidate as _candidate
from baiying_dispatcher.candidates import point as point
from baiying_dispatcher.clock import Clock as Clock
from baiying_dispatcher.domain import reachable_channels
from baiying_dispatcher.walk import ANYONE as ANYONE
from baiying_dispatcher.walk import explain_nearest as explain_nearest
from baiying_dispatcher.walk import nearest as nearest
from baiying_shared.events.volunteers import VolunteerSnapshot

__all__ = ["ANYONE", "Candidate", "Clock", "advisory_audience", "apply_snapshots",
           "count_alerts", "explain_nearest", "nearest", "point", "remove", "snapshot_row"]

_UPSERT = """
INSERT INTO responders (volunteer_id, revision, name, phone, team_id, team_type, district,
    location, skills, channels, reachable, language, active, on_duty, available_until,
    quiet_start, quiet_end, daily_alert_cap, callable, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, ST_SetSRID(ST_MakePoint($8, $9), 4326)::geography,
    $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
ON CONFLICT (volunteer_id) DO UPDATE SET
    revision = EXCLUDED.revision, name = EXCLUDED.name, phone = EXCLUDED.phone,
    team_id = EXCLUDED.team_id, team_type = EXCLUDED.team_type, district = EXCLUDED.district,
    location = EXCLUDED.location, skills = EXCLUDED.skills, channels = EXCLUDED.channels,
    reachable = EXCLUDED.reachable, language = EXCLUDED.language, active = EXCLUDED.active,
    on_duty = EXCLUDED.on_duty, available_until = EXCLUDED.available_until,
    quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end,
    daily_alert_cap = EXCLUDED.daily_alert_cap, callable = EXCLUDED.callable,
    updated_at = EXCLUDED.updated_at
WHERE responders.revision < EXCLUDED.revision
"""


def snapshot_row(s: VolunteerSnapshot) -> tuple[Any, ...]:
    """The upsert parameters for one snapshot."""
    reachable = reachable_channels(
        [c.value for c in s.channels], sms_opt_out=s.sms_opt_out, phone_flag=s.phone_flag
    )
    active = s.status == "active"
    quiet = s.quiet_hours
    return (
        s.volunteer_id, s.revision, s.name, s.phone, s.team_id, s.team_type.value, s.district,
        s.home.lon, s.home.lat, list(s.skills), [c.value for c in s.channels], list(reachable),
        s.language, active, s.on_duty, s.available_until,
        quiet.start if quiet else None, quiet.end if quiet else None,
        s.daily_alert_cap, active and s.on_duty and bool(reachable), s.updated_at,
    )


async def apply_snapshots(
    conn: asyncpg.Connection[Any], snapshots: Sequence[VolunteerSnapshot]
) -> None:
    """Upsert snapshots; an older or equal revision than the stored one changes nothing."""
    await conn.executemany(_UPSERT, [snapshot_row(s) for s in snapshots])


async def remove(conn: asyncpg.Connection[Any], *, volunteer_id: uuid.UUID) -> None:
    """A registry tombstone: the volunteer no longer exists."""
    await conn.execute("DELETE FROM responders WHERE volunteer_id = $1", volunteer_id)


async def count_alerts(
    conn: asyncpg.Connection[Any], *, volunteer_ids: Sequence[uuid.UUID], day: date
) -> None:
    """Count today's alerts toward each volunteer's daily cap."""
    await conn.execute(
        "UPDATE responders SET alerts_today = CASE WHEN alerts_day = $2 THEN alerts_today + 1"
        " ELSE 1 END, alerts_day = $2 WHERE volunteer_id = ANY($1::uuid[])",
        list(volunteer_ids), day,
    )


_ADVISORY = f"""
WITH here AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS g)
SELECT {_COLUMNS}, ST_Distance(r.location, here.g) AS distance
FROM responders r, here
WHERE r.active AND cardinality(r.reachable) > 0 AND {{where}}
  AND {_QUIET_SQL.format(t="$5")}
ORDER BY distance
LIMIT $4
"""


async def advisory_audience(
    conn: asyncpg.Connection[Any], *, lat: float, lon: float, districts: Sequence[str] | None,
    radius_m: int, limit: int, clock: Clock, within: Sequence[str],
) -> list[Candidate]:
    """Every active, reachable volunteer in `districts` (or the radius), nearest first.

    A prevention notice is not urgent: it ignores duty and the daily cap, but never wakes
    someone inside their quiet hours. By radius it still keeps to the districts the incident
    may draw on (`within`): a circle near a border must not reach the neighbour's people.
    """
    if districts:
        sql = _ADVISORY.format(where="r.district = ANY($3::text[])")
        rows = await conn.fetch(sql, lon, lat, list(districts), limit, clock.local)
    else:
        sql = _ADVISORY.format(
            where="ST_DWithin(r.location, here.g, $3) AND r.district = ANY($6::text[])")
        rows = await conn.fetch(sql, lon, lat, float(radius_m), limit, clock.local, list(within))
    return [_candidate(r) for r in rows]
