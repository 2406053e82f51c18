"""Request and response bodies of the dispatcher API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from baiying_shared.events.common import DistrictCode, GeoPoint, TeamType
from baiying_shared.events.volunteers import SKILL_PATTERN

SkillName = Annotated[str, StringConstraints(pattern=SKILL_PATTERN)]  # as the registry
Count = Annotated[int, Field(ge=1, le=500)]


class NeedIn(BaseModel):
    """A total head count, a mix by team type and skill, or both."""

    model_config = ConfigDict(extra="forbid")
    total: int | None = Field(default=None, ge=1, le=500)
    teams: dict[TeamType, Count] = Field(default_factory=dict)
    skills: dict[SkillName, Count] = Field(default_factory=dict, validate_default=True)

    @field_validator("skills", mode="after")
    @classmethod
    def _something_needed(cls, v: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        if not v and not info.data.get("teams") and not info.data.get("total"):
            raise ValueError("say what is needed: a total, teams or skills")
        return v


class EscalationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rounds: int = Field(ge=1, le=10)
    widening: float = Field(ge=1.0, le=10.0)
    wait_s: float = Field(ge=1.0, le=3600)


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    category: str = Field(min_length=1, max_length=40)
    kind: Literal["callout", "advisory"] = "callout"
    location: GeoPoint
    address: str = Field(min_length=1, max_length=200)
    area: str | None = Field(default=None, max_length=40, description="rough area, e.g. 街道")
    district: DistrictCode
    radius_m: int | None = Field(default=None, ge=50, le=50_000)
    need: NeedIn | None = Field(default=None, validate_default=True)
    escalation: EscalationIn | None = None
    advice: str | None = Field(default=None, max_length=1000, validate_default=True)
    districts: list[DistrictCode] | None = Field(
        default=None, max_length=18, description="advisory: districts to reach (else the radius)"
    )
    help_from: list[DistrictCode] | None = Field(
        default=None, max_length=17,
        description="call-out: neighbouring districts whose people may be called too;"
        " you must hold each (else an admin approves with POST /incidents/{id}/help)",
    )

    @field_validator("need", mode="after")
    @classmethod
    def _need_for_callouts(cls, v: NeedIn | None, info: ValidationInfo) -> NeedIn | None:
        if info.data.get("kind", "callout") == "callout" and v is None:
            raise ValueError("a call-out needs `need`")
        return v

    @field_validator("advice", mode="after")
    @classmethod
    def _advice_for_advisories(cls, v: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") == "advisory" and not v:
            raise ValueError("an advisory needs its advice text")
        return v


class HelpIn(BaseModel):
    """An admin lets an incident call people from more districts (audited)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    districts: list[DistrictCode] = Field(min_length=1, max_length=17)
    reason: str = Field(min_length=1, max_length=500)


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class ManualReplyIn(BaseModel):
    """A reply taken by the duty desk (the volunteer phoned in)."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["accept", "decline", "arrived"]
    note: str = Field(default="", max_length=500)


class IncidentOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    description: str
    category: str
    district: str
    area: str
    address: str
    location: GeoPoint
    status: str
    round: int
    rounds: int
    radius_m: int
    need: dict[str, object]
    escalation: dict[str, object]
    advice: str | None
    created_by: str
    created_at: datetime
    next_round_at: datetime | None
    first_callout_at: datetime | None = None
    first_accept_at: datetime | None
    staffed_at: datetime | None
    unmet_at: datetime | None = None
    ended_at: datetime | None = None
    time_to_first_accept_s: float | None
    time_to_staffed_s: float | None
    counts: dict[str, int] = Field(default_factory=dict)
    deliveries: dict[str, int] = Field(default_factory=dict)
    accepted: int = 0
    called: int = 0
    missing: dict[str, int] = Field(default_factory=dict)
    # One figure for every screen (coverage.py): filled/required, per-component lines.
    coverage: dict[str, object] | None = None
    # Whose people it may call (own district first); their supervisors see it.
    draw_districts: list[str] = Field(default_factory=list)


class CalloutOut(BaseModel):
    id: uuid.UUID
    volunteer_id: uuid.UUID
    name: str
    phone: str  # masked
    team_type: str
    skills: list[str]
    distance_m: int
    rank: int
    round: int
    state: str
    delivery_status: str | None
    lat: float
    lon: float
    created_at: datetime
    delivered_at: datetime | None
    answered_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    stood_down_at: datetime | None


class StatRow(BaseModel):
    key: str
    called: int
    accepted: int
    acceptance_rate: float | None
    median_accept_s: float | None


class StatsOut(BaseModel):
    overall: StatRow
    by_team_type: list[StatRow]
    by_district: list[StatRow]
    # Over the call-outs in scope: incidents, fully covered ones, slots filled / required.
    coverage: dict[str, int] = Field(default_factory=dict)
