"""Build static/geo/ganzhou.json: the 18 county seats and approximate district cells.

Run once (`python3 services/consoles/tools/build_geo.py path/to/ganzhou.json`) and commit the
output; nothing reads the reference file at run time. The cells are Voronoi cells of the seats
clipped to the city bbox — not real boundaries, but close enough to pre-fill a district from a
click and to orient a duty officer on a map with no tile server.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

Point = tuple[float, float]  # (x km east, y km north) in a local equirectangular plane
OUT = Path(__file__).resolve().parents[1] / "static" / "geo" / "ganzhou.json"
KM_PER_DEG_LAT = 110.574
# Pinyin names for the English view of the consoles.
NAME_EN = {
    "360702": "Zhanggong", "360703": "Nankang", "360704": "Ganxian", "360722": "Xinfeng",
    "360723": "Dayu", "360724": "Shangyou", "360725": "Chongyi", "360726": "Anyuan",
    "360728": "Dingnan", "360729": "Quannan", "360730": "Ningdu", "360731": "Yudu",
    "360732": "Xingguo", "360733": "Huichang", "360734": "Xunwu", "360735": "Shicheng",
    "360781": "Ruijin", "360783": "Longnan",
}


def _km_per_deg_lon(lat0: float) -> float:
    return 111.320 * math.cos(math.radians(lat0))


def clip_half_plane(poly: list[Point], a: Point, b: Point) -> list[Point]:
    """Keep the part of convex `poly` closer to `a` than to `b` (Sutherland–Hodgman, one edge)."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def inside(p: Point) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny  # <= 0 means on a's side

    out: list[Point] = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        dc, dp = inside(cur), inside(prev)
        if (dc <= 0) != (dp <= 0):
            t = dp / (dp - dc)
            out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
        if dc <= 0:
            out.append(cur)
    return out


def voronoi_cells(seats: list[Point], box: list[Point]) -> list[list[Point]]:
    """Each seat's cell: the box cut by the bisector with every other seat."""
    cells = []
    for i, a in enumerate(seats):
        poly = list(box)
        for j, b in enumerate(seats):
            if i != j:
                poly = clip_half_plane(poly, a, b)
        cells.append(poly)
    return cells


def build(ref: dict[str, Any]) -> dict[str, Any]:
    bb = ref["city"]["bbox_wgs84"]
    lat0 = (bb["min_lat"] + bb["max_lat"]) / 2
    kx = _km_per_deg_lon(lat0)

    def to_xy(lon: float, lat: float) -> Point:
        return ((lon - bb["min_lon"]) * kx, (lat - bb["min_lat"]) * KM_PER_DEG_LAT)

    def to_lonlat(p: Point) -> list[float]:
        lon, lat = bb["min_lon"] + p[0] / kx, bb["min_lat"] + p[1] / KM_PER_DEG_LAT
        return [round(lon, 5), round(lat, 5)]

    divisions = ref["divisions"]
    seats = [to_xy(d["seat"]["lon"], d["seat"]["lat"]) for d in divisions]
    box = [to_xy(bb["min_lon"], bb["min_lat"]), to_xy(bb["max_lon"], bb["min_lat"]),
           to_xy(bb["max_lon"], bb["max_lat"]), to_xy(bb["min_lon"], bb["max_lat"])]
    cells = voronoi_cells(seats, box)
    return {
        "about": "Ganzhou (赣州市) county seats (approximate, WGS84) and Voronoi cells of the "
                 "seats clipped to the city bbox: approximate districts, not official boundaries. "
                 "Built by services/consoles/tools/build_geo.py.",
        "city": {"name": ref["city"]["name"], "code": ref["city"]["code"], "bbox": bb,
                 "lat0": round(lat0, 4)},
        "divisions": [
            {"code": d["code"], "name": d["name"], "name_en": NAME_EN[d["code"]], "kind": d["kind"],
             "seat": {"lat": d["seat"]["lat"], "lon": d["seat"]["lon"]},
             "cell": [to_lonlat(p) for p in cell]}
            for d, cell in zip(divisions, cells, strict=True)
        ],
    }


def _dump(data: dict[str, Any]) -> str:
    """One division per line: small, and diffs stay readable."""
    head = {k: v for k, v in data.items() if k != "divisions"}
    rows = ",\n  ".join(json.dumps(d, ensure_ascii=False) for d in data["divisions"])
    return json.dumps(head, ensure_ascii=False)[:-1] + f', "divisions": [\n  {rows}\n]}}\n'


def main(argv: list[str]) -> None:
    src = Path(argv[1] if len(argv) > 1 else "../shared/reference/ganzhou.json")
    data = build(json.loads(src.read_text(encoding="utf-8")))
    OUT.write_text(_dump(data), encoding="utf-8")
    print(f"wrote {OUT} ({len(data['divisions'])} divisions)")


if __name__ == "__main__":
    main(sys.argv)
