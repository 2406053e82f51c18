"""A volunteer's answer, from SMS or the app, becomes one VolunteerReplied event."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from baiying_notifier import app_push, events
from baiying_shared.db import outbox
from baiying_shared.deps import PgConn
from baiying_shared.events.envelope import Envelope, wrap
from baiying_shared.events.replies import TOPIC, VolunteerReplied

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
    await outbox.add_many(conn, [_replied(callout, action, channel, text)])
    await app_push.answered(conn, callout=callout, action=action, channel=channel)


Answer: TypeAlias = tuple[Any, str, str | None]  # (call-out, action, text) of one SMS reply


def _replied(callout: Any, action: str, channel: str, text: str | None
             ) -> tuple[str, str, Envelope[Any]]:
    payload = VolunteerReplied(
        callout_id=callout["callout_id"], incident_id=callout["incident_id"],
        volunteer_id=callout["volunteer_id"], action=action,
        channel=channel,  # type: ignore[arg-type,unused-ignore]
        text=text, received_at=events.now())
    return TOPIC, str(callout["callout_id"]), wrap(payload, producer=events.PRODUCER)


async def targets_for_phones(conn: Conn, asks: list[tuple[str, str, str | None]]) -> list[Any]:
    """target_for_phone for each (phone, action, code), in one statement; None where none."""
    if not asks:
        return []
    rows = await conn.fetch(
        "SELECT r.n AS n_, t.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
        " WITH ORDINALITY AS r(phone, code, s1, s2, n) CROSS JOIN LATERAL ("
        " SELECT * FROM callouts c WHERE c.phone = r.phone AND c.kind = 'callout'"
        " AND (r.code IS NULL OR c.code = r.code) AND c.state = ANY(ARRAY[r.s1, r.s2])"
        " ORDER BY CASE WHEN r.code IS NULL THEN array_position(ARRAY[r.s1, r.s2], c.state)"
        " END, c.issued_at DESC LIMIT 1) t",
        [p for p, _, _ in asks], [c or None for _, _, c in asks],
        [_STATES[a][0] for _, a, _ in asks], [_STATES[a][1] for _, a, _ in asks])
    found = {row["n_"]: row for row in rows}
    return [found.get(n) for n in range(1, len(asks) + 1)]


async def record_many(conn: Conn, answers: list[Answer]) -> None:
    """record(channel="sms") for each answer, in order, in two statements: the events, and
    the app view's answers (the last per call-out, as one by one) with their NOTIFYs."""
    if not answers:
        return
    await outbox.add_many(conn, [_replied(c, a, "sms", t) for c, a, t in answers])
    await app_push.answered_many(conn, [(c, a) for c, a, _ in answers], channel="sms")


async def latest_for_phone(conn: Conn, phone: str) -> Any:
    return await conn.fetchrow(
        "SELECT volunteer_id, language, code FROM callouts WHERE phone = $1"
        " ORDER BY issued_at DESC LIMIT 1",
        phone,
    )


async def latest_for_phones(conn: Conn, phones: list[str]) -> dict[str, Any]:
    """latest_for_phone of each phone that has a call-out, in one statement."""
    if not phones:
        return {}
    rows = await conn.fetch(
        "SELECT DISTINCT ON (phone) phone, volunteer_id, language, code FROM callouts"
        " WHERE phone = ANY($1::text[]) ORDER BY phone, issued_at DESC", phones)
    return {row["phone"]: row for row in rows}
