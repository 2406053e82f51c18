"""What leaves the dispatcher: call-out events (via the outbox) and stream notices (via NOTIFY).

Both are written inside the caller's transaction, so neither exists unless the change commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg

from baiying_dispatcher.coverage import Coverage
from baiying_dispatcher.domain import COMMITTED, CalloutState, rounded_point
from baiying_dispatcher.queries import coverage_of
from baiying_dispatcher.repo import Callout, Incident
from baiying_shared.db import outbox
from baiying_shared.events import callouts as topic
from baiying_shared.events.common import Channel
from baiying_shared.events.envelope import Envelope, wrap

PRODUCER = "dispatcher"
CHANGES_CHANNEL = "dispatcher_changes"

StandDownReason = Literal["staffed", "cancelled", "closed", "expired", "held"]


def _addressed(c: Callout) -> dict[str, Any]:
    return {
        "callout_id": c.id, "incident_id": c.incident_id, "volunteer_id": c.volunteer_id,
        "phone": c.phone, "channels": tuple(Channel(ch) for ch in c.channels),
        "language": c.language if c.language in ("zh", "en") else "zh",
    }


def _row(incident: Incident, payload: topic._Addressed) -> tuple[str, str, Envelope[Any] | None]:
    # Keyed by volunteer: a big call spreads over partitions, one person's messages stay in order.
    # An advisory's events take the bulk topic (and so the outbox's bulk lane), all of them, so
    # a call-out raised behind one never waits for it and one person's events stay in order.
    envelope = wrap(payload, producer=PRODUCER, trace_id=incident.trace_id)
    return (topic.topic_for(incident.kind), str(payload.volunteer_id), envelope)


async def issue(
    conn: asyncpg.Connection[Any],
    *,
    incident: Incident,
    callouts: Sequence[Callout],
    expires_at: datetime | None,
) -> None:
    """First alerts, nearest first: what, roughly where and how far — no exact address."""
    def issued(c: Callout) -> topic.CalloutIssued:
        return topic.CalloutIssued(
            **_addressed(c), kind=incident.kind,
            title=incident.title, category=incident.category, area=incident.area,
            district=incident.district, distance_m=c.distance_m, rank=c.rank, round=c.round,
            advice=incident.advice, expires_at=expires_at, description=incident.description,
        )  # fmt: skip

    await _add_in_chunks(conn, incident, sorted(callouts, key=lambda c: c.rank), issued)


# Events built and written this many at a time. A 10,000-person advisory's events took
# ~0.5 s of CPU in one stretch, and a call-out raised meanwhile waited up to ~220 ms for the
# event loop (measured); each chunk's write is a round trip that lets it in. Ids still
# follow the given order, so per-key order holds.
CHUNK = 500


async def _add_in_chunks(
    conn: asyncpg.Connection[Any],
    incident: Incident,
    callouts: Sequence[Callout],
    make: Callable[[Callout], topic._Addressed],
) -> None:
    for start in range(0, len(callouts), CHUNK):
        chunk = callouts[start : start + CHUNK]
        await outbox.add_many(conn, [_row(incident, make(c)) for c in chunk])


async def confirm(
    conn: asyncpg.Connection[Any], *, incident: Incident, callout: Callout, contact: str
) -> None:
    """Only for those who accepted: the exact address, the point and whom to call."""
    payload = topic.CalloutConfirmed(
        **_addressed(callout), title=incident.title, address=incident.address,
        lat=incident.lat, lon=incident.lon, contact=contact, description=incident.description,
    )
    await outbox.add_many(conn, [_row(incident, payload)])


async def stand_down(
    conn: asyncpg.Connection[Any],
    *,
    incident: Incident,
    callouts: Sequence[Callout],
    reason: StandDownReason,
    held_by: str = "",
) -> None:
    """No longer needed (or, `held`, committed to the incident titled `held_by`)."""
    def stood_down(c: Callout) -> topic.CalloutStoodDown:
        return topic.CalloutStoodDown(**_addressed(c), reason=reason, title=incident.title,
                                      held_by=held_by)  # fmt: skip

    await _add_in_chunks(conn, incident, callouts, stood_down)


def _scope(incident: Incident) -> dict[str, Any]:
    # Who may see it: the incident's district, and every district it draws people from.
    return {"incident_id": str(incident.id), "district": incident.district,
            "districts": list(incident.draw_districts or (incident.district,))}


def incident_notice(incident: Incident) -> dict[str, Any]:
    return {
        "type": "incident", **_scope(incident),
        "kind": incident.kind, "title": incident.title, "status": incident.status.value,
        "round": incident.round, "radius_m": incident.radius_m,
    }


def callout_notice(incident: Incident, c: Callout, state: str) -> dict[str, Any]:
    # No phone number ever enters the stream; the home point leaves rounded to ~100 m, and
    # only the incident's own desk gets the exact one of someone on the way (stream.py).
    notice = {
        "type": "callout", **_scope(incident),
        "callout_id": str(c.id), "state": state, "rank": c.rank, "round": c.round,
        "distance_m": c.distance_m, "team_type": c.team_type, "name": c.name,
        **rounded_point(c.lat, c.lon),
    }
    if CalloutState(state) in COMMITTED:
        notice[EXACT] = {"lat": c.lat, "lon": c.lon}
    return notice


EXACT = "exact"  # a notice's exact point, removed by the stream for all but the desk


async def notify(
    conn: asyncpg.Connection[Any], notices: Sequence[dict[str, Any]],
    *, covers: Mapping[str, Coverage | None] | None = None,
) -> None:
    """Queue stream notices; PostgreSQL delivers them to listeners only after commit.

    Each notice of a call-out incident carries its coverage as of this transaction, so the
    live screens show the same figure as IncidentOut without fetching it again. `covers`:
    coverage the caller already knows (a unit of work holds every call-out), by incident id,
    None for one that has none (an advisory); only incidents missing from it are read.
    """
    known = dict(covers or {})
    ids = sorted({n["incident_id"] for n in notices
                  if n.get("kind", "callout") == "callout" and n["incident_id"] not in known})
    known.update(await coverage_of(conn, ids) if ids else {})
    notices = [{**n, "coverage": cover.as_dict()}
               if (cover := known.get(n["incident_id"])) is not None else n for n in notices]
    if notices:
        await conn.executemany(
            f"SELECT pg_notify('{CHANGES_CHANNEL}', $1)",
            [(json.dumps(n, ensure_ascii=False, default=str),) for n in notices],
        )
