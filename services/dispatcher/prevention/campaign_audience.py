"""Who a campaign reaches: the dispatcher's own responder index, never the registry's tables.

Everyone active with SMS reachable who matches the team types, districts, radius and hotspot
cells (each filter only when given). Information officers and building watch come first: they
pass a notice on, so they should have it first. People inside their quiet hours at the run's
start are skipped and counted (the one rule, domain.in_quiet_hours, as selection uses).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

import asyncpg

from baiying_dispatcher.clock import Clock
from baiying_dispatcher.domain import in_quiet_hours
from baiying_dispatcher.index import point
from baiying_dispatcher.prevention.campaign_model import AudienceIn

SPREADERS = ("information_officer", "building_watch")

_SELECT = """
SELECT r.volunteer_id, r.phone, r.team_type, r.district, r.language, r.quiet_start, r.quiet_end
FROM responders r
WHERE r.active AND 'sms' = ANY(r.reachable)
  AND ($1::text[] IS NULL OR r.team_type = ANY($1))
  AND ($2::text[] IS NULL OR r.district = ANY($2))
  AND ($3::geography IS NULL OR ST_DWithin(r.location, $3::geography, $4))
  AND ($5::float8[] IS NULL OR EXISTS (
      SELECT 1 FROM unnest($5::float8[], $6::float8[], $7::float8[], $8::float8[])
          AS c(south, west, north, east)
      WHERE ST_Y(r.location::geometry) >= c.south AND ST_Y(r.location::geometry) < c.north
        AND ST_X(r.location::geometry) >= c.west AND ST_X(r.location::geometry) < c.east))
ORDER BY array_position($9::text[], r.team_type) NULLS LAST, r.volunteer_id
LIMIT $10
"""


@dataclass(frozen=True)
class Recipient:
    volunteer_id: uuid.UUID
    phone: str
    team_type: str
    district: str
    language: str
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True)
class Audience:
    recipients: list[Recipient]
    quiet_skipped: int

    def languages(self) -> Counter[str]:
        return Counter(r.language for r in self.recipients)


async def select(
    conn: asyncpg.Connection[Any], *, audience: AudienceIn, districts: Sequence[str] | None,
    clock: Clock, limit: int,
) -> Audience:
    """The run's recipients at `clock`, and how many quiet hours kept out."""
    rows = await conn.fetch(_SELECT, *_params(audience, districts, limit))
    found = [Recipient(**dict(r)) for r in rows]
    awake = [r for r in found if not in_quiet_hours(r.quiet_start, r.quiet_end, clock.local)]
    return Audience(awake, len(found) - len(awake))


def _params(audience: AudienceIn, districts: Sequence[str] | None, limit: int) -> list[Any]:
    teams = [t.value for t in audience.team_types] or None
    # The campaign's scope (the caller's districts when the audience names none) bounds it.
    wanted = list(audience.districts) or (list(districts) if districts else None)
    radius = audience.radius
    cells = audience.hotspot_cells
    boxes: list[list[float] | None] = (
        [[c.south for c in cells], [c.west for c in cells], [c.north for c in cells],
         [c.east for c in cells]] if cells else [None] * 4)
    return [teams, wanted, point(lat=radius.lat, lon=radius.lon) if radius else None,
            float(radius.m) if radius else 0.0, *boxes, list(SPREADERS), limit]
