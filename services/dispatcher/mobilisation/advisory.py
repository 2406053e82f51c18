"""An advisory's delivery statuses, replayed without its aggregate (pure; no I/O).

An advisory has no quorum, replacement or round to judge: a status moves only its own row
(delivery status, and the alert's state forward). So a poll of thousands of statuses is
replayed here over the rows it touches, in offset order, exactly as one-by-one would, and
the result is a list of row changes and notices the writer applies in one statement each.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from baiying_dispatcher.domain import CalloutState, after_delivery, delivery_is_newer
from baiying_dispatcher.repo import Callout


@dataclass(frozen=True)
class Status:
    """One delivery status, as the notifier reported it."""

    callout_id: uuid.UUID
    status: str
    message: str
    error: int | None
    at: datetime


@dataclass(frozen=True)
class RowChange:
    """A call-out's row after the poll: None fields are left as they are."""

    callout_id: uuid.UUID
    delivery_status: str | None = None
    delivery_error: int | None = None
    state: CalloutState | None = None
    delivered_at: datetime | None = None  # the moment it first became delivered


@dataclass(frozen=True)
class Replay:
    changes: list[RowChange]
    moves: list[tuple[Callout, CalloutState]]  # one notice each, in order
    unknown: list[uuid.UUID]


def replay(rows: Mapping[uuid.UUID, Callout], statuses: Sequence[Status]) -> Replay:
    """Apply `statuses` in order to `rows` (the advisory's call-outs they name).

    Same outcome as domain.delivery_is_newer / after_delivery applied one status at a time,
    including several statuses for one call-out in one poll.
    """
    current = dict(rows)
    changed: dict[uuid.UUID, RowChange] = {}
    moves: list[tuple[Callout, CalloutState]] = []
    unknown: list[uuid.UUID] = []
    for s in statuses:
        c = current.get(s.callout_id)
        if c is None:
            unknown.append(s.callout_id)
            continue
        row = changed.get(c.id, RowChange(c.id))
        if s.message == "alert" and delivery_is_newer(c.delivery_status, s.status):
            c = replace(c, delivery_status=s.status)
            row = replace(row, delivery_status=s.status, delivery_error=s.error)
        new = after_delivery(c.state, s.status, message=s.message)
        if new is not None:
            c = replace(c, state=new)
            stamp = row.delivered_at or (s.at if new == CalloutState.delivered else None)
            row = replace(row, state=new, delivered_at=stamp)
            moves.append((c, new))
        current[c.id] = c
        if row != RowChange(c.id):
            changed[c.id] = row
    return Replay(list(changed.values()), moves, unknown)
