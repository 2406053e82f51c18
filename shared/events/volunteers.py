"""Topic registry.volunteers.v1 — compacted, key = volunteer id, value = full snapshot.

A deleted volunteer is a tombstone (null value) on its key, so a consumer reading from
the start rebuilds exactly the registry's current people.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from baiying_shared.events.common import Channel, DistrictCode, GeoPoint, QuietHours, TeamType
from baiying_shared.events.envelope import Payload, event

TOPIC = "registry.volunteers.v1"

# A volunteer's field limits, one home for the registry's API and CSV import and the desk's
# requests (a desk must not be able to ask for a skill no one can hold).
SKILL_MAX = 32
SKILL_PATTERN = rf"^[a-z][a-z0-9_]{{0,{SKILL_MAX - 1}}}$"  # first_aid, boat, ...
NAME_MAX = 64
SKILLS_PER_PERSON_MAX = 20
DAILY_ALERT_CAP_MAX = 200


@event("volunteer.snapshot", 1)
class VolunteerSnapshot(Payload):
    volunteer_id: uuid.UUID
    revision: int
    name: str
    phone: str
    team_id: uuid.UUID
    team_type: TeamType
    district: DistrictCode
    home: GeoPoint
    skills: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = (Channel.sms,)
    language: Literal["zh", "en"] = "zh"
    on_duty: bool = True
    available_until: datetime | None = None
    quiet_hours: QuietHours | None = None
    daily_alert_cap: int = 10
    sms_opt_out: bool = False
    phone_flag: str | None = None
    status: Literal["active", "suspended"] = "active"
    updated_at: datetime
