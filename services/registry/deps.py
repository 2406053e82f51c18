"""FastAPI dependencies and response mapping shared by the registry's routers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends

from baiying_registry.config import RegistrySettings
from baiying_registry.domain import decode_cursor
from baiying_registry.schemas import TeamOut, VolunteerOut
from baiying_shared.auth import Principal
from baiying_shared.deps import Conn, app_settings
from baiying_shared.errors import InvalidField
from baiying_shared.events.common import GeoPoint, QuietHours
from baiying_shared.privacy import mask_phone

Settings = Annotated[RegistrySettings, Depends(app_settings)]
Db = Conn  # the shared pooled-connection dependency, under the name the registry's routes use


def cursor_id(cursor: str | None) -> uuid.UUID | None:
    """The keyset position in an opaque cursor; 422 naming `cursor` if it is not ours."""
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as exc:
        raise InvalidField("cursor", str(exc), where="query") from exc


def volunteer_out(row: Any, *, whole_phone: bool = True) -> VolunteerOut:
    """The registry's record of a person; the whole phone only where the caller needs it."""
    quiet = row["quiet_start"]
    distance = row["distance_m"] if "distance_m" in row else None
    return VolunteerOut(
        id=row["id"], revision=row["revision"], name=row["name"],
        phone=row["phone"] if whole_phone else mask_phone(row["phone"]),
        team_id=row["team_id"], team_type=row["team_type"], district=row["district"],
        home=GeoPoint(lat=row["lat"], lon=row["lon"]), skills=list(row["skills"]),
        channels=list(row["channels"]), language=row["language"], on_duty=row["on_duty"],
        available_until=row["available_until"],
        quiet_hours=QuietHours(start=quiet, end=row["quiet_end"]) if quiet else None,
        daily_alert_cap=row["daily_alert_cap"], sms_opt_out=row["sms_opt_out"],
        phone_flag=row["phone_flag"], status=row["status"], created_at=row["created_at"],
        updated_at=row["updated_at"],
        distance_m=round(distance, 1) if distance is not None else None,
    )


def sees_whole_phone(principal: Principal, volunteer_id: uuid.UUID | None = None) -> bool:
    """Admins (who keep the records) and the volunteer themself; desks and supervisors see masks."""
    return principal.role == "admin" or (
        volunteer_id is not None and principal.volunteer_id == volunteer_id
    )


def team_out(row: Any) -> TeamOut:
    return TeamOut(
        id=row["id"], name=row["name"], type=row["type"], district=row["district"],
        community=row["community"], leader_volunteer_id=row["leader_volunteer_id"],
        created_at=row["created_at"],
    )
