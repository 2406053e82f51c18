"""Writes an advisory poll's replay (mobilisation.advisory): the row changes in one
statement and their notices in one call, in the caller's transaction, so a state change and
its notice still commit together, as the unit of work pairs them for call-outs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from baiying_dispatcher import outbound, repo
from baiying_dispatcher.mobilisation.advisory import Status, replay


async def apply(
    conn: asyncpg.Connection[Any], *, incidents: Mapping[uuid.UUID, repo.Incident],
    statuses: Sequence[tuple[uuid.UUID, Status]],
) -> list[uuid.UUID]:
    """Apply (incident id, status) pairs of advisories in order; returns unknown call-outs.

    Three round trips a poll (lock, update, notify) instead of up to four a status.
    """
    locked = await repo.lock_callouts(conn, [s.callout_id for _, s in statuses])
    rows = {c.id: c for c in locked.values() if c.incident_id in incidents}
    named: list[Status] = []
    strays: list[Status] = []  # a call-out of another incident than the status names
    for incident_id, s in statuses:
        c = rows.get(s.callout_id)
        (named if c is None or c.incident_id == incident_id else strays).append(s)
    result = replay(rows, named)
    await repo.set_deliveries(conn, [
        (r.callout_id, r.delivery_status, r.delivery_error,
         r.state.value if r.state is not None else None, r.delivered_at)
        for r in result.changes
    ])
    notices = [outbound.callout_notice(incidents[c.incident_id], c, state)
               for c, state in result.moves]
    if notices:  # advisories: no quorum, so no coverage to read
        ids = {str(c.incident_id) for c, _ in result.moves}
        await outbound.notify(conn, notices, covers=dict.fromkeys(ids))
    return [s.callout_id for s in strays] + result.unknown
