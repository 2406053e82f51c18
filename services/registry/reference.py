"""The Ganzhou reference figures shipped with the package (data/ganzhou.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from baiying_shared.events.common import TeamType


@dataclass(frozen=True)
class BBox:
    """A lon/lat rectangle (WGS84); the service area volunteers must live in."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    seat_lat: float
    seat_lon: float


@dataclass(frozen=True)
class TeamFigure:
    """One of the five teams: how many teams and members the document reports."""

    type: TeamType
    name: str
    teams: int
    members: int


@dataclass(frozen=True)
class Reference:
    city_name: str
    city_code: str
    bbox: BBox
    divisions: tuple[Division, ...]
    five_teams: tuple[TeamFigure, ...]


@cache
def ganzhou() -> Reference:
    """Load the packaged figures once."""
    raw = json.loads(
        resources.files("baiying_registry").joinpath("data/ganzhou.json").read_text("utf-8")
    )
    box = raw["city"]["bbox_wgs84"]
    return Reference(
        city_name=raw["city"]["name"],
        city_code=raw["city"]["code"],
        bbox=BBox(box["min_lon"], box["min_lat"], box["max_lon"], box["max_lat"]),
        divisions=tuple(
            Division(d["code"], d["name"], d["seat"]["lat"], d["seat"]["lon"])
            for d in raw["divisions"]
        ),
        five_teams=tuple(
            TeamFigure(TeamType(t["type"]), t["name"], t["teams"], t["members"])
            for t in raw["five_teams"]
        ),
    )
