"""Hotspots (案件多发的区域、时段): incidents binned by grid cell and hour of the week. No I/O.

Cells are squares of `cell_m` metres on a local equirectangular grid centred on the points
themselves (accurate to well under 1 % across a city); hours are local (Asia/Shanghai), so
"Friday 21:00" means what a duty officer means by it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
METRES_PER_DEGREE = 111_320.0
WEEKDAYS_ZH = "一二三四五六日"


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    at: datetime
    category: str


@dataclass(frozen=True)
class Square:
    """One square of the grid: its row and column, and its edges in degrees."""

    row: int
    col: int
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class Cell(Square):
    count: int
    categories: dict[str, int]
    hours: dict[int, int]  # hour of week (Monday 00:00 = 0) -> count

    @property
    def centre(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    @property
    def peak_hour(self) -> int:
        """The busiest hour of the week (the earliest of equals)."""
        return min(self.hours, key=lambda h: (-self.hours[h], h))


def hour_of_week(at: datetime) -> int:
    local = at.astimezone(LOCAL)
    return local.weekday() * 24 + local.hour


def hour_label(how: int, lang: str = "zh") -> str:
    day, hour = divmod(how, 24)
    if lang == "zh":
        return f"周{WEEKDAYS_ZH[day]} {hour:02d}:00"
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[day]} {hour:02d}:00"


def cells(points: Iterable[Point], *, cell_m: float) -> list[Cell]:
    """Every non-empty cell, busiest first (ties: north-west first, for a stable order)."""
    pts = list(points)
    if not pts:
        return []
    mid_lat = sum(p.lat for p in pts) / len(pts)
    dlat = cell_m / METRES_PER_DEGREE
    dlon = cell_m / (METRES_PER_DEGREE * math.cos(math.radians(mid_lat)))
    binned: dict[tuple[int, int], list[Point]] = {}
    for p in pts:
        binned.setdefault((math.floor(p.lat / dlat), math.floor(p.lon / dlon)), []).append(p)
    out = [
        Cell(row=r, col=c, south=r * dlat, west=c * dlon, north=(r + 1) * dlat,
             east=(c + 1) * dlon, count=len(members),
             categories=dict(Counter(p.category for p in members)),
             hours=dict(Counter(hour_of_week(p.at) for p in members)))
        for (r, c), members in binned.items()
    ]
    return sorted(out, key=lambda cell: (-cell.count, -cell.row, cell.col))


def week_matrix(points: Iterable[Point]) -> list[int]:
    """168 counts, one per hour of the week, for a heat strip of the whole area."""
    counts = [0] * 168
    for p in points:
        counts[hour_of_week(p.at)] += 1
    return counts


def suggested_send(cell: Cell, *, now: datetime, lead: timedelta = timedelta(hours=2)) -> datetime:
    """When a campaign for this hotspot should go out: `lead` before its next peak hour."""
    local = now.astimezone(LOCAL)
    week_start = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0)
    peak = week_start + timedelta(hours=cell.peak_hour) - lead
    while peak <= local:
        peak += timedelta(days=7)
    return peak
