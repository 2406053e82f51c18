"""Topic registry.teams.v1 — compacted, key = team id, value = full snapshot (null = deleted)."""

from __future__ import annotations

import uuid

from baiying_shared.events.common import DistrictCode, TeamType
from baiying_shared.events.envelope import Payload, event

TOPIC = "registry.teams.v1"


@event("team.snapshot", 1)
class TeamSnapshot(Payload):
    team_id: uuid.UUID
    name: str
    type: TeamType
    district: DistrictCode
    community: str | None = None
    leader_volunteer_id: uuid.UUID | None = None
