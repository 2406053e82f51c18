"""A volunteer's answer, from SMS or the app, becomes one VolunteerReplied event."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from baiying_notifier import app_push, events
from baiying_shared.deps import PgConn

Conn: TypeAlias = PgConn

# Which call-outs an answer may apply to: accept/decline while live; arrival after accepting.
_STATES = {
    "accept": ("live", "confirmed"),
    "decline": ("live", "confirmed"),
    "arrived": ("confirmed", "live"),
}


async def target_for_phone(conn: Conn, *, phone: str, action: str, code: str | None) -> Any:
    """The call-out an SMS reply means: the one it names, else the newest live one."""
    states = list(_STATES[action])
    if code:
        return await conn.fetchrow(
            "SELECT * FROM callouts WHERE phone = $1 AND code = $2 AND kind = 'callout'"
            " AND state = ANY($3::text[]) ORDER BY issued_at DESC LIMIT 1",
            phone,
            code,
            states,
        )
    return await conn.fetchrow(
        "SELECT * FROM callouts WHERE phone = $1 AND kind = 'callout' AND state = ANY($2::text[])"
        " ORDER BY array_position($2::text[], state), issued_at DESC LIMIT 1",
        phone,
        states,
    )


async def target_for_volunteer(
    conn: Conn, *, volunteer_id: uuid.UUID, callout_id: uuid.UUID, action: str
) -> Any:
    """The app names its call-out; it must be this volunteer's and still answerable."""
    return await conn.fetchrow(
        "SELECT * FROM callouts WHERE callout_id = $1 AND volunteer_id = $2 AND kind = 'callout'"
        " AND state = ANY($3::text[])",
        callout_id,
        volunteer_id,
        list(_STATES[action]),
    )


async def record(conn: Conn, *, callout: Any, action: str, channel: str, text: str | None) -> None:
    """Publish the reply; the dispatcher owns what it means for the call-out's state."""
    await events.replied(conn, callout=callout, action=action, channel=channel, text=text)
    await app_push.answered(conn, callout=callout, action=action, channel=channel)


async def latest_for_phone(conn: Conn, phone: str) -> Any:
    return await conn.fetchrow(
        "SELECT volunteer_id, language, code FROM callouts WHERE phone = $1"
        " ORDER BY issued_at DESC LIMIT 1",
        phone,
    )
