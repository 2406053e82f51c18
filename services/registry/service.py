"""Service functions: each change and its snapshot event commit in one transaction.

They take domain commands (`NewTeam`, `NewVolunteer`, `VolunteerChanges`), never the HTTP
bodies; the routes translate.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import asyncpg

from baiying_registry import reach_store, repo
from baiying_registry.domain import area_error
from baiying_registry.reference import BBox
from baiying_shared.db import outbox
from baiying_shared.errors import Conflict, InvalidField
from baiying_shared.events import volunteers as volunteer_events
from baiying_shared.events.common import GeoPoint
from baiying_shared.ids import new_id


@dataclass(frozen=True)
class NewTeam:
    name: str
    type: str  # a TeamType value
    district: str
    community: str | None = None
    leader_volunteer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewVolunteer:
    """A person to register, as the volunteers row holds them (district None: the team's)."""

    name: str
    phone: str  # normalised E.164
    team_id: uuid.UUID
    district: str | None
    home: GeoPoint
    skills: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("sms",)  # Channel values
    language: str = "zh"
    on_duty: bool = True
    available_until: datetime | None = None
    quiet: tuple[time, time] | None = None  # (start, end)
    daily_alert_cap: int = 10
    status: str = "active"


@dataclass(frozen=True)
class VolunteerChanges:
    """Only the fields given, as plain values (channels as values, `quiet_hours` as a
    (start, end) pair or None to clear); absent fields keep theirs."""

    given: Mapping[str, Any]


async def create_team(conn: repo.Conn, *, data: NewTeam) -> repo.Row:
    """Create a team and queue its snapshot."""
    async with conn.transaction():
        if data.leader_volunteer_id:
            await _existing_volunteer(conn, data.leader_volunteer_id, "leader_volunteer_id")
        team_id = new_id()
        await conn.execute(
            "INSERT INTO teams (id, name, type, district, community, leader_volunteer_id)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            team_id, data.name, data.type, data.district, data.community,
            data.leader_volunteer_id,
        )
        return await repo.publish_team(conn, team_id)


async def create_volunteer(conn: repo.Conn, *, data: NewVolunteer, area: BBox) -> repo.Row:
    """Register a person; InvalidField for an unknown team or a home outside the area."""
    _check_home(data.home, area, "home")
    async with conn.transaction():
        team = await _existing_team(conn, data.team_id)
        volunteer_id = new_id()
        start, end = data.quiet or (None, None)
        try:
            await conn.execute(
                "INSERT INTO volunteers (id, name, phone, team_id, district, home, skills,"
                " channels, language, on_duty, available_until, quiet_start, quiet_end,"
                " daily_alert_cap, status) VALUES ($1, $2, $3, $4, $5, "
                + repo.POINT.format(lat="$6", lon="$7")
                + ", $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                volunteer_id, data.name, data.phone, data.team_id,
                data.district or team["district"], data.home.lat, data.home.lon,
                list(data.skills), list(data.channels), data.language, data.on_duty,
                data.available_until, start, end, data.daily_alert_cap, data.status,
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict("a volunteer with this phone is already registered") from exc
        return await repo.publish_volunteer(conn, volunteer_id)


async def patch_volunteer(
    conn: repo.Conn, *, volunteer_id: uuid.UUID, changes: VolunteerChanges, area: BBox
) -> repo.Row:
    """Change the given fields, bump the revision and queue the snapshot."""
    given = changes.given
    if given.get("home") is not None:
        _check_home(given["home"], area, "home")
    async with conn.transaction():
        await repo.get_volunteer(conn, volunteer_id)  # 404 before any other complaint
        sets, args = await _patch_sets(conn, given)
        if sets:
            args.append(volunteer_id)
            try:
                await conn.execute(
                    f"UPDATE volunteers SET {', '.join(sets)}, revision = revision + 1,"
                    f" updated_at = now() WHERE id = ${len(args)}",
                    *args,
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict("a volunteer with this phone is already registered") from exc
            if given.get("phone"):
                await reach_store.forget(conn, volunteer_id)
            return await repo.publish_volunteer(conn, volunteer_id)
        return await repo.get_volunteer(conn, volunteer_id)


_PLAIN = ("name", "phone", "district", "skills", "language", "daily_alert_cap", "status")


async def _patch_sets(
    conn: repo.Conn, changes: Mapping[str, Any]
) -> tuple[list[str], list[Any]]:
    """SET clauses and their arguments for the fields present in the patch."""
    sets: list[str] = []
    args: list[Any] = []

    def put(column: str, value: Any) -> None:
        args.append(value)
        sets.append(f"{column} = ${len(args)}")

    for name in _PLAIN:
        if name in changes and changes[name] is not None:
            put(name, changes[name])
    if changes.get("phone"):
        # States belong to the old number; the new one starts reachable.
        sets.extend(["phone_flag = NULL", "sms_opt_out = false"])
    if changes.get("team_id") is not None:
        team = await _existing_team(conn, changes["team_id"])
        put("team_id", changes["team_id"])
        if changes.get("district") is None:
            put("district", team["district"])
    if changes.get("channels") is not None:
        put("channels", list(changes["channels"]))
    if "quiet_hours" in changes:
        start, end = changes["quiet_hours"] or (None, None)
        put("quiet_start", start)
        put("quiet_end", end)
    if (home := changes.get("home")) is not None:
        args.extend([home.lat, home.lon])
        sets.append("home = " + repo.POINT.format(lat=f"${len(args) - 1}", lon=f"${len(args)}"))
    return sets, args


async def set_availability(
    conn: repo.Conn, *, volunteer_id: uuid.UUID, on_duty: bool, until: datetime | None
) -> repo.Row:
    """Put the volunteer on or off duty (until a time, or open-ended)."""
    async with conn.transaction():
        await repo.get_volunteer(conn, volunteer_id)
        await conn.execute(
            "UPDATE volunteers SET on_duty = $2, available_until = $3, revision = revision + 1,"
            " updated_at = now() WHERE id = $1",
            volunteer_id, on_duty, until,
        )
        return await repo.publish_volunteer(conn, volunteer_id)


async def delete_volunteer(conn: repo.Conn, *, volunteer_id: uuid.UUID) -> None:
    """Remove the person, publish a tombstone, and unset them as leader anywhere."""
    async with conn.transaction():
        await repo.get_volunteer(conn, volunteer_id)
        await conn.execute("DELETE FROM volunteers WHERE id = $1", volunteer_id)
        await outbox.add_tombstone(conn, topic=volunteer_events.TOPIC, key=str(volunteer_id))
        led = await conn.fetch(
            "UPDATE teams SET leader_volunteer_id = NULL, updated_at = now()"
            " WHERE leader_volunteer_id = $1 RETURNING id",
            volunteer_id,
        )
        for team in led:
            await repo.publish_team(conn, team["id"])


def _check_home(home: GeoPoint, area: BBox, field: str) -> None:
    why = area_error(home.lat, home.lon, area)
    if why:
        raise InvalidField(field, why)


async def _existing_team(conn: repo.Conn, team_id: uuid.UUID) -> repo.Row:
    team = await repo.get_team(conn, team_id)
    if team is None:
        raise InvalidField("team_id", f"no team {team_id}")
    return team


async def _existing_volunteer(conn: repo.Conn, volunteer_id: uuid.UUID, field: str) -> None:
    if not await conn.fetchval("SELECT 1 FROM volunteers WHERE id = $1", volunteer_id):
        raise InvalidField(field, f"no volunteer {volunteer_id}")
