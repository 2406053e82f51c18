"""A volunteer picked from the responder index: a plain value, no SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
