"""Value types used by several topics."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class TeamType(StrEnum):
    """The five teams of the 群防群治 mechanism, plus in-unit guards."""

    patrol = "patrol"  # 治安巡防队
    community_security = "community_security"  # 社区保安队
    security_volunteer = "security_volunteer"  # 治安志愿者
    building_watch = "building_watch"  # 看楼护院队
    information_officer = "information_officer"  # 治安信息员
    unit_guard = "unit_guard"  # 内部单位护厂队


class Channel(StrEnum):
    sms = "sms"
    app = "app"


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
DistrictCode = Annotated[str, Field(pattern=r"^\d{6}$")]


class GeoPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    lat: Latitude
    lon: Longitude


class QuietHours(BaseModel):
    """Local wall-clock window in which the volunteer is not called (may cross midnight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end
