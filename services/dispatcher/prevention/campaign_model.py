"""Campaign request bodies and their cross-field checks. No I/O.

Pydantic checks each field; `check` the rules between fields, raising InvalidField with the
field's dotted name (`schedule.weekday`) so the desk's form can point at it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from baiying_dispatcher.prevention import pii
from baiying_shared.errors import InvalidField
from baiying_shared.events.common import DistrictCode, Latitude, Longitude, TeamType

Title = Annotated[str, Field(min_length=2, max_length=60)]
Advice = Annotated[str, Field(min_length=5, max_length=500)]
ScheduleKind = Literal["now", "at", "weekly", "monthly"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RadiusIn(_Body):
    lat: Latitude
    lon: Longitude
    m: int = Field(ge=50, le=50_000)


class CellIn(_Body):
    """A hotspot cell as /v1/hotspots gives it (degrees)."""

    south: Latitude
    west: Longitude
    north: Latitude
    east: Longitude


class AudienceIn(_Body):
    team_types: list[TeamType] = Field(default_factory=list, max_length=6)
    districts: list[DistrictCode] = Field(default_factory=list, max_length=50)
    radius: RadiusIn | None = None
    hotspot_cells: list[CellIn] | None = Field(None, max_length=50)
    residents: bool = False


class ScheduleIn(_Body):
    kind: ScheduleKind
    at: datetime | None = None
    weekday: int | None = Field(None, ge=1, le=7, description="ISO: Monday 1 … Sunday 7")
    day: int | None = Field(None, ge=1, le=28, description="day of the month")
    time: dt.time | None = None  # local wall clock, HH:MM
    tz: str = Field("Asia/Shanghai", max_length=60)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class CampaignIn(_Body):
    """A case (case_id) or a free notice (title and advice, zh and optionally en)."""

    name: str = Field(min_length=2, max_length=80)
    case_id: uuid.UUID | None = None
    title_zh: Title | None = None
    advice_zh: Advice | None = None
    title_en: Title | None = None
    advice_en: Advice | None = None
    audience: AudienceIn
    schedule: ScheduleIn


def check(body: CampaignIn, *, now: datetime) -> None:
    """The rules between fields; InvalidField names the first one broken."""
    _check_text(body)
    _check_schedule(body.schedule, now=now)
    a = body.audience
    if a.residents and not a.districts:
        raise InvalidField("audience.districts", "residents subscribe by district: name them")
    for i, c in enumerate(a.hotspot_cells or ()):
        if c.south >= c.north or c.west >= c.east:
            raise InvalidField(f"audience.hotspot_cells.{i}", "south < north and west < east")


def _check_text(body: CampaignIn) -> None:
    if body.case_id is None and (body.title_zh is None or body.advice_zh is None):
        raise InvalidField("title_zh", "give a case_id, or title_zh and advice_zh")
    if (body.title_en is None) != (body.advice_en is None):
        missing = "advice_en" if body.advice_en is None else "title_en"
        raise InvalidField(missing, "give the English title and advice together")
    for name in ("title_zh", "advice_zh", "title_en", "advice_en"):
        text = getattr(body, name)
        # A notice goes to thousands: refuse personal data rather than silently rewrite it.
        cleaned = pii.scrub(text) if text is not None else None
        if cleaned is not None and (cleaned.findings or cleaned.residual):
            raise InvalidField(name, "contains personal data (a name, number or address)")


def _check_schedule(s: ScheduleIn, *, now: datetime) -> None:
    try:
        ZoneInfo(s.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("schedule.tz", f"unknown time zone {s.tz!r}") from None
    if s.kind == "at" and (s.at is None or s.at.tzinfo is None or s.at <= now):
        raise InvalidField("schedule.at", "a future time with its offset is required")
    if s.kind == "weekly" and s.weekday is None:
        raise InvalidField("schedule.weekday", "required for a weekly campaign")
    if s.kind == "monthly" and s.day is None:
        raise InvalidField("schedule.day", "required for a monthly campaign")
    if s.kind in ("weekly", "monthly") and s.time is None:
        raise InvalidField("schedule.time", f"required for a {s.kind} campaign")
