"""Request and response bodies of the registry API (validated, so a 422 names the field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from baiying_registry.domain import SKILL, normalize_phone
from baiying_shared.events.common import Channel, DistrictCode, GeoPoint, QuietHours, TeamType
from baiying_shared.events.volunteers import (
    DAILY_ALERT_CAP_MAX,
    NAME_MAX,
    SKILLS_PER_PERSON_MAX,
)


def _phone(value: str) -> str:
    return normalize_phone(value)  # InvalidPhone is a ValueError: pydantic names the field


def _skills(values: list[str]) -> list[str]:
    bad = [s for s in values if not SKILL.match(s)]
    if bad:
        raise ValueError(f"skills are lower-case words like first_aid; not {bad[0]!r}")
    return sorted(set(values))


def _channels(values: list[Channel]) -> list[Channel]:
    if not values:
        raise ValueError("at least one channel (sms, app)")
    return sorted(set(values))


Phone = Annotated[str, Field(examples=["+8613812345678"]), AfterValidator(_phone)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, examples=["刘海燕"])]
Skills = Annotated[
    list[str],
    Field(max_length=SKILLS_PER_PERSON_MAX, examples=[["first_aid"]]),
    AfterValidator(_skills),
]
Channels = Annotated[list[Channel], AfterValidator(_channels)]
AlertCap = Annotated[int, Field(ge=0, le=DAILY_ALERT_CAP_MAX)]
Status = Literal["active", "suspended"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["章贡区治安巡防队第1队"])]
    type: TeamType
    district: DistrictCode
    community: Annotated[str | None, Field(max_length=100)] = None
    leader_volunteer_id: uuid.UUID | None = None


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    type: TeamType
    district: str
    community: str | None
    leader_volunteer_id: uuid.UUID | None
    created_at: datetime


class VolunteerIn(_In):
    name: Name
    phone: Phone
    team_id: uuid.UUID
    district: DistrictCode | None = Field(None, description="defaults to the team's district")
    home: GeoPoint = Field(description="usual location; must be inside the service area")
    skills: Skills = []
    channels: Channels = [Channel.sms]
    language: Literal["zh", "en"] = "zh"
    on_duty: bool = True
    available_until: AwareDatetime | None = None
    quiet_hours: QuietHours | None = None
    daily_alert_cap: AlertCap = 10
    status: Status = "active"


class VolunteerPatch(_In):
    """Any subset of the writable fields; absent fields keep their values."""

    name: Name | None = None
    phone: Phone | None = None
    team_id: uuid.UUID | None = None
    district: DistrictCode | None = None
    home: GeoPoint | None = None
    skills: Skills | None = None
    channels: Channels | None = None
    language: Literal["zh", "en"] | None = None
    quiet_hours: QuietHours | None = None
    daily_alert_cap: AlertCap | None = None
    status: Status | None = None


class AvailabilityIn(_In):
    on_duty: bool
    until: AwareDatetime | None = Field(None, description="on/off duty until then")


class VolunteerOut(BaseModel):
    """The registry's own record: the only API response that shows the whole phone."""

    id: uuid.UUID
    revision: int
    name: str
    phone: str
    team_id: uuid.UUID
    team_type: TeamType
    district: str
    home: GeoPoint
    skills: list[str]
    channels: list[Channel]
    language: str
    on_duty: bool
    available_until: datetime | None
    quiet_hours: QuietHours | None
    daily_alert_cap: int
    sms_opt_out: bool
    phone_flag: str | None
    status: Status
    created_at: datetime
    updated_at: datetime
    distance_m: float | None = None


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class VolunteerPage(BaseModel):
    items: list[VolunteerOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class Rejection(BaseModel):
    line: int
    field: str
    reason: str


class ImportReport(BaseModel):
    received: int = Field(description="data rows in the file")
    imported: int = Field(description="rows created or updated")
    created: int
    updated: int
    unchanged: int
    rejected: list[Rejection]
