"""FastAPI dependencies and response mapping shared by the registry's routers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends

from baiying_registry.config import RegistrySettings
from baiying_registry.domain import decode_cursor
from baiying_registry.repo import volunteer_state
from baiying_registry.schemas import TeamOut, VolunteerOut
from baiying_shared.auth import Principal
from baiying_shared.deps import Conn, app_settings
from baiying_shared.errors import InvalidField
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
    distance = row["distance_m"] if "distance_m" in row else None
    return VolunteerOut.model_validate({
        **volunteer_state(row), "id": row["id"], "created_at": row["created_at"],
        "phone": row["phone"] if whole_phone else mask_phone(row["phone"]),
        "distance_m": round(distance, 1) if distance is not None else None,
    })


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
