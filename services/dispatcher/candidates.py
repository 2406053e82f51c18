"""A volunteer picked from the responder index, and the SQL pieces every selection shares.

index.py (advisories) and walk.py (nearest-N) both select these columns and turn a row into a
`Candidate`; they live here so neither module imports the other's internals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from baiying_dispatcher.domain import Profile


@dataclass(frozen=True)
class Candidate:
    volunteer_id: uuid.UUID
    name: str
    phone: str
    team_type: str
    skills: tuple[str, ...]
    district: str
    channels: tuple[str, ...]
    language: str
    lat: float
    lon: float
    distance_m: int

    @property
    def profile(self) -> Profile:
        return Profile(self.team_type, frozenset(self.skills))


def point(*, lat: float, lon: float) -> str:
    """EWKT of a WGS 84 point, for a `$n::geography` parameter."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"


COLUMNS = """r.volunteer_id, r.name, r.phone, r.team_type, r.skills, r.district, r.reachable,
    r.language, ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon"""

# The SQL twin of domain.in_quiet_hours (a window that may cross midnight), judged at the
# local time parameter `{t}`; tests/dispatcher/test_selection.py runs both over one table.
QUIET_SQL = """(r.quiet_start IS NULL OR r.quiet_start = r.quiet_end OR NOT CASE
    WHEN r.quiet_start < r.quiet_end THEN {t} >= r.quiet_start AND {t} < r.quiet_end
    ELSE {t} >= r.quiet_start OR {t} < r.quiet_end END)"""


def candidate(r: asyncpg.Record | Any) -> Candidate:
    """A selected row (COLUMNS and its `distance`) as a Candidate."""
    return Candidate(
        volunteer_id=r["volunteer_id"], name=r["name"], phone=r["phone"],
        team_type=r["team_type"], skills=tuple(r["skills"]), district=r["district"],
        channels=tuple(r["reachable"]), language=r["language"], lat=r["lat"], lon=r["lon"],
        distance_m=round(r["distance"]),
    )
