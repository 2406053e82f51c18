"""The dispatch clock: the local day and time that quiet hours and daily caps are judged by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    """The local day and wall-clock time that quiet hours and daily caps are judged by."""

    now: datetime
    day: date
    local: time

    @classmethod
    def at(cls, now: datetime, zone: str) -> Clock:
        local = now.astimezone(ZoneInfo(zone))
        return cls(now, local.date(), local.time().replace(tzinfo=None))
