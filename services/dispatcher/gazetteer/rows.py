"""Parsing gazetteer CSV lines, with an error per bad line. No I/O here."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from baiying_dispatcher.areas import metres_outside
from baiying_shared.reference import district_name, districts

COLUMNS = ("address", "district", "community", "police_room", "lat", "lon")
REQUIRED = ("address", "district", "lat", "lon")
# Ganzhou's bounding box (shared reference), widened a little: a point outside is a typo.
LAT_RANGE, LON_RANGE = (24.3, 27.3), (113.7, 116.8)
# The district cells are approximate (Voronoi cells of the seats), so only a point well
# beyond its district's cell is taken for a mistake (a swapped district or coordinate).
DISTRICT_SLACK_M = 10_000


@dataclass(frozen=True)
class Address:
    address: str
    district: str
    community: str
    police_room: str
    lat: float
    lon: float

    @property
    def search(self) -> str:
        """What queries match: district name, address, community and police room, run together."""
        return "".join((district_name(self.district), self.address, self.community,
                        self.police_room))


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based, the header being line 1
    field: str
    message: str


def _coordinate(raw: str, name: str, bounds: tuple[float, float]) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} is not a number: {raw!r}") from None
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{name} {raw} is outside Ganzhou ({bounds[0]}–{bounds[1]})")
    return value


def parse_line(row: dict[str, str], line: int) -> Address | LineError:
    """One CSV record as an address, or the first thing wrong with it."""
    cells = {k: (row.get(k) or "").strip() for k in COLUMNS}
    for name in REQUIRED:
        if not cells[name]:
            return LineError(line, name, f"{name} is empty")
    if cells["district"] not in districts():
        return LineError(line, "district", f"unknown district code {cells['district']!r}")
    if len(cells["address"]) > 200:
        return LineError(line, "address", "address is longer than 200 characters")
    try:
        lat = _coordinate(cells["lat"], "lat", LAT_RANGE)
        lon = _coordinate(cells["lon"], "lon", LON_RANGE)
    except ValueError as exc:
        return LineError(line, str(exc).split(" ", 1)[0], str(exc))
    if (off := metres_outside(lat, lon, [cells["district"]])) > DISTRICT_SLACK_M:
        return LineError(line, "location", f"({lat}, {lon}) lies {off / 1000:.1f} km outside "
                         f"{district_name(cells['district'])}")
    return Address(cells["address"], cells["district"], cells["community"][:60],
                   cells["police_room"][:60], lat, lon)


def parse(text: str) -> tuple[list[tuple[int, Address]], list[LineError]]:
    """Good lines (with their numbers) and an error for each bad one; a missing column fails
    the header line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [LineError(1, c, f"header lacks column {c!r}") for c in missing]
    good: list[tuple[int, Address]] = []
    bad: list[LineError] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(reader, start=2):
        got = parse_line(row, i)
        if isinstance(got, LineError):
            bad.append(got)
        elif (got.district, got.address) in seen:
            bad.append(LineError(i, "address", "duplicate of an earlier line"))
        else:
            seen.add((got.district, got.address))
            good.append((i, got))
    return good, bad
