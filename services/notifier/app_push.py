"""Pushes to the volunteer app that are not deliveries: a reply taken on any channel.

A volunteer who answered by SMS ("3" = arrived) must see the app follow at once, and a reload
must still know it. The answer is kept on the call-out's app view (`callouts.alert.answer`) and
announced on NOTIFY notifier_app from the reply's own transaction, so it reaches the sockets
only after commit. No delivery row is made: the SMS delivery counts stay the dispatcher's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from baiying_shared.deps import PgConn

CHANNEL = "notifier_app"


def _note(volunteer_id: uuid.UUID, event: dict[str, Any]) -> str:
    return json.dumps({"volunteer_id": str(volunteer_id), "event": event}, ensure_ascii=False)


async def notify(conn: PgConn, *, volunteer_id: uuid.UUID, event: dict[str, Any]) -> None:
    """Send `event` to the volunteer's open app sockets after this transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, _note(volunteer_id, event))


async def answered_many(conn: PgConn, answers: list[tuple[Any, str]], *, channel: str) -> None:
    """answered() for each (callout, action), in order, in one statement: the app view keeps
    the last answer per call-out (as one by one would) and every answer's NOTIFY goes out."""
    last = {c["callout_id"]: a for c, a in answers}
    notes = [_note(c["volunteer_id"], {"type": "answered", "callout_id": str(c["callout_id"]),
                                       "action": a, "channel": channel}) for c, a in answers]
    await conn.execute(
        "WITH answer AS (UPDATE callouts c SET alert = c.alert || jsonb_build_object('answer', u.a)"
        " FROM unnest($1::uuid[], $2::text[]) AS u(id, a) WHERE c.callout_id = u.id)"
        " SELECT pg_notify($3, n) FROM unnest($4::text[]) WITH ORDINALITY AS x(n, i) ORDER BY i",
        list(last), list(last.values()), CHANNEL, notes)


async def answered(conn: PgConn, *, callout: Any, action: str, channel: str) -> None:
    """Remember the volunteer's latest answer on the app view and tell their app.

    One statement, one round trip: a data-modifying WITH runs to completion whether or not
    the outer SELECT reads it, so the NOTIFY goes out exactly as if sent on its own.
    """
    event = {"type": "answered", "callout_id": str(callout["callout_id"]), "action": action,
             "channel": channel}
    await conn.execute(
        "WITH answer AS (UPDATE callouts"
        " SET alert = alert || jsonb_build_object('answer', $2::text) WHERE callout_id = $1)"
        " SELECT pg_notify($3, $4)",
        callout["callout_id"], action, CHANNEL, _note(callout["volunteer_id"], event),
    )
