"""District names and desk callback numbers, from the one shared reference list."""

from __future__ import annotations

from collections.abc import Mapping

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
