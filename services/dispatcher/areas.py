"""District names and desk callback numbers, from the one shared reference list."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from baiying_shared.reference import district_name, districts

# Kept for callers that want the code → Chinese name table.
DISTRICT_NAMES: dict[str, str] = {code: d.zh for code, d in districts().items()}


def area_name(district: str, area: str | None) -> str:
    """District name plus the optional neighbourhood (片区), never the street address."""
    name = district_name(district)
    if area and area.startswith(name):
        return area  # the desk already typed the district in front of the 片区
    return f"{name}{area}" if area else name


def callback_number(district: str, *, callbacks: Mapping[str, str], default: str) -> str:
    """The desk to call back for an incident in `district`: its own number, else the centre's."""
    return callbacks.get(district) or default


# District cells: Voronoi cells of the county seats clipped to the city (approximate, not
# official boundaries), shipped with the consoles' map and read from there: one geometry.
_M_PER_DEG = 111_320.0


@cache
def district_cells() -> dict[str, list[tuple[float, float]]]:
    """District code → its cell as (lon, lat) vertices."""
    text = resources.files("baiying_consoles").joinpath("static/geo/ganzhou.json").read_text(
        "utf-8")
    doc = json.loads(text)
    return {d["code"]: [(float(x), float(y)) for x, y in d["cell"]] for d in doc["divisions"]}


def _inside(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def _to_segment_m(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy)
                                           / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def outside_service_area(
    lat: float, lon: float, *, districts: list[str] | None, margin_m: float
) -> str | None:
    """Why a desk holding `districts` (None: all) may not raise here, or None if it may."""
    if districts is None:
        return None
    off = metres_outside(lat, lon, districts)
    if off <= margin_m:
        return None
    names = "、".join(district_name(d) for d in districts) or "none"
    return (f"({lat:.5f}, {lon:.5f}) lies {off / 1000:.1f} km outside your districts ({names});"
            f" at most {margin_m / 1000:.1f} km is allowed")


def metres_outside(lat: float, lon: float, districts: Iterable[str]) -> float:
    """How far the point lies outside every one of `districts` (0.0 when inside one)."""
    k = math.cos(math.radians(lat)) * _M_PER_DEG  # local metres per degree of longitude
    px, py = lon * k, lat * _M_PER_DEG
    best = math.inf
    for code in districts:
        ring = district_cells().get(code)
        if not ring:
            continue
        if _inside(lon, lat, ring):
            return 0.0
        pts = [(x * k, y * _M_PER_DEG) for x, y in ring]
        best = min(best, *(_to_segment_m(px, py, a, b)
                           for a, b in zip(pts, pts[1:] + pts[:1], strict=True)))
    return best
