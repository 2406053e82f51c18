"""The unit of work: load an incident under its row lock, and on commit write its changes.

Rows, outbox events and stream notices are all derived from the aggregate's change records
inside one transaction, so a state change cannot be written without its event or its notice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol

import asyncpg

from baiying_dispatcher import outbound, repo
from baiying_dispatcher.areas import callback_number
from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.coverage import Coverage, coverage
from baiying_dispatcher.domain import COMMITTED, LIVE, OUTSTANDING, Need, Policy, Want
from baiying_dispatcher.index import advisory_audience, count_alerts, nearest
from baiying_dispatcher.mobilisation.aggregate import Incident
from baiying_dispatcher.mobilisation.changes import (
    Advised,
    Called,
    CalloutsMoved,
    Confirmed,
    DeliveryRecorded,
    Held,
    IncidentUpdated,
    Raised,
    StoodDown,
)
from baiying_shared.logging import get_logger

log = get_logger(__name__)

COMMITMENT_LOCK = 11_002  # advisory-lock class of "one commitment at a time" (issue #11)


def _column(value: Any) -> Any:
    """An aggregate's field as its incidents column holds it."""
    if isinstance(value, Need):
        return repo.need_json(value)
    if isinstance(value, Policy):
        return repo.policy_json(value)
    return getattr(value, "value", value)  # enums by value


def _columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _column(v) for k, v in fields.items()}


def _fields(changes: Sequence[Any]) -> dict[str, Any]:
    """Every IncidentUpdated's fields as incidents columns, later ones winning."""
    merged: dict[str, Any] = {}
    for change in changes:
        if isinstance(change, IncidentUpdated):
            merged.update(_columns(change.fields))
    return merged


def covers(agg: Incident) -> dict[str, Coverage | None]:
    """A call-out incident's coverage from the call-outs the aggregate holds (all of them),
    as queries.coverage_of would read it in this transaction; an advisory has none."""
    if agg.row.kind != "callout":
        return {str(agg.row.id): None}
    held = agg.callouts.values()
    return {str(agg.row.id): coverage(
        agg.row.need, [c.profile for c in held if c.state in COMMITTED],
        [c.profile for c in held if c.state in OUTSTANDING])}


class UnitOfWork(Protocol):
    """What the handlers need: load, find people, commit. Fakes implement the same."""

    clock: Clock

    async def load(self, incident_id: uuid.UUID) -> Incident | None: ...

    async def nearest(
        self, agg: Incident, *, want: Want, exclude: Sequence[uuid.UUID]
    ) -> list[Candidate]: ...

    async def audience(self, agg: Incident, *, limit: int) -> list[Candidate]: ...

    async def holder(self, volunteer_id: uuid.UUID, *, incident_id: uuid.UUID) -> str | None: ...

    async def commit(self, agg: Incident) -> None: ...


class PgUnitOfWork:
    """PostgreSQL unit of work inside one transaction (a savepoint if one is already open).

    `join`: work in the caller's open transaction without a savepoint (two round trips
    fewer), for callers whose every error aborts that whole transaction anyway (a raise).
    `batch`: several commits of one aggregate (a poll's replies); their stream notices are
    queued once, at the end, with the coverage as it is then.
    """

    def __init__(
        self, conn: asyncpg.Connection[Any], *, settings: DispatcherSettings | None,
        clock: Clock, join: bool = False, batch: bool = False,
    ) -> None:
        # settings only name the call-back number of a confirmation; `end` confirms nobody.
        self.conn, self.settings, self.clock = conn, settings, clock
        self._tx = None if join else conn.transaction()
        self._riding: dict[str, Any] | None = None  # incident fields the next call writes
        self._batch = batch
        self._pending: list[dict[str, Any]] = []  # a batch's notices, queued at the end
        self._last: Incident | None = None

    async def __aenter__(self) -> PgUnitOfWork:
        if self._tx is None:
            if not self.conn.is_in_transaction():
                raise RuntimeError("a joining unit of work needs an open transaction")
        else:
            await self._tx.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None and self._last is not None and self._pending:
            await outbound.notify(self.conn, self._pending, covers=covers(self._last))
        if self._tx is None:
            return  # the caller's transaction commits or rolls back everything
        if kind is None:
            await self._tx.commit()
        else:
            await self._tx.rollback()

    async def load(self, incident_id: uuid.UUID) -> Incident | None:
        """The incident locked FOR UPDATE, with all its call-outs."""
        row = await repo.get_incident(self.conn, incident_id, lock=True)
        if row is None:
            return None
        return Incident.of(row, await repo.callouts_of(self.conn, incident_id=row.id))

    async def nearest(
        self, agg: Incident, *, want: Want, exclude: Sequence[uuid.UUID]
    ) -> list[Candidate]:
        row = agg.row
        found: list[Candidate] = await nearest(
            self.conn, lat=row.lat, lon=row.lon, radius_m=row.radius_m, clock=self.clock,
            limit=want.count, want=want.component, incident_id=row.id, exclude=exclude,
            districts=row.draw_districts,  # the district lines: never across them
        )
        return found

    async def audience(self, agg: Incident, *, limit: int) -> list[Candidate]:
        row = agg.row
        found: list[Candidate] = await advisory_audience(
            self.conn, lat=row.lat, lon=row.lon, districts=row.target_districts,
            radius_m=row.radius_m, limit=limit, clock=self.clock, within=row.draw_districts,
        )
        return found

    async def holder(self, volunteer_id: uuid.UUID, *, incident_id: uuid.UUID) -> str | None:
        """Lock the volunteer until commit; the title of another live incident they are
        committed to, or None."""
        # A transaction-scoped lock keyed by volunteer, not their responders row: the
        # call that follows an acceptance updates responders rows (count_alerts), and two
        # incidents each holding one person's row while calling the other would deadlock.
        await self.conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2::text))",
                                COMMITMENT_LOCK, str(volunteer_id))
        title: str | None = await self.conn.fetchval(
            "SELECT i.title FROM callouts c JOIN incidents i ON i.id = c.incident_id"
            " WHERE c.volunteer_id = $1 AND c.incident_id <> $2 AND c.state = ANY($3::text[])"
            " AND i.status = ANY($4::text[]) ORDER BY c.accepted_at LIMIT 1",
            volunteer_id, incident_id, [s.value for s in COMMITTED], [s.value for s in LIVE],
        )
        return title

    async def commit(self, agg: Incident) -> None:
        """Write the aggregate's change records: rows first, then outbox, notices last."""
        conn, row = self.conn, agg.row
        notices: list[dict[str, Any]] = []
        incident_changed = False
        # A call carries the incident's changed fields (first_callout_at, a wider radius, …)
        # in its call-outs' statement: one round trip, not two.
        # Without a call, the incident's changes of this commit (a reply's first_accept_at,
        # then staffed) are one UPDATE where the first was, not one each: the row is locked
        # since load and no statement in between reads it.
        calls = any(isinstance(c, Called) and c.picks for c in agg.changes)
        merged = _fields(agg.changes)
        self._riding = merged if calls else None
        written = calls
        for change in agg.changes:
            match change:
                case IncidentUpdated():
                    if not written:
                        await repo.update_incident(conn, row.id, **merged)
                        written = True
                    incident_changed = True
                case CalloutsMoved(callouts=moved, state=state, at=at):
                    await repo.set_state(conn, [c.id for c in moved], state, at=at)
                    notices += [outbound.callout_notice(row, c, state) for c in moved]
                case DeliveryRecorded(callout=c, status=status, error=error):
                    await repo.set_delivery(conn, c.id, status=status, error=error)
                case Confirmed(callout=c):
                    if self.settings is None:
                        raise ValueError("a confirmation needs the dispatcher's settings")
                    contact = callback_number(row.district,
                                              callbacks=self.settings.dispatch_callbacks,
                                              default=self.settings.dispatch_contact)
                    await outbound.confirm(conn, incident=row, callout=c, contact=contact)
                case StoodDown(callouts=chosen, reason=reason):
                    await outbound.stand_down(conn, incident=row, callouts=chosen, reason=reason)
                case Called():
                    notices += await self._call(agg, change)
                case Held(callout=c, held_by=held_by):
                    await outbound.stand_down(conn, incident=row, callouts=(c,), reason="held",
                                              held_by=held_by)
                case Raised():
                    incident_changed = True
                case Advised(picks=picks):
                    await self._advise(agg, picks)
        if incident_changed:
            notices.append(outbound.incident_notice(row))
        if self._batch:
            self._pending += notices
            self._last = agg
        else:
            await outbound.notify(conn, notices, covers=covers(agg))
        agg.changes.clear()

    async def _advise(self, agg: Incident, picks: Sequence[Candidate]) -> None:
        # Not counted toward the daily cap, and no per-person notices: 2,000 recipients would
        # flood the stream with rows nobody answers (an advisory expects no reply).
        made = await repo.insert_callouts(self.conn, incident_id=agg.row.id, picks=picks,
                                          round_no=1, first_rank=1)
        await outbound.issue(self.conn, incident=agg.row, callouts=made, expires_at=None)
        agg.callouts.update({c.id: c for c in made})

    async def _call(self, agg: Incident, change: Called) -> list[dict[str, Any]]:
        row = agg.row
        made = await repo.insert_callouts(
            self.conn, incident_id=row.id, picks=change.picks, round_no=change.round_no,
            first_rank=change.first_rank, incident_fields=self._riding,
        )
        self._riding = {}  # written with the first call
        await count_alerts(self.conn, volunteer_ids=[c.volunteer_id for c in made],
                           day=self.clock.day)
        await outbound.issue(self.conn, incident=row, callouts=made, expires_at=change.expires_at)
        agg.callouts.update({c.id: c for c in made})
        log.info("called", incident_id=str(row.id), round=change.round_no, n=len(made))
        return [outbound.callout_notice(row, c, c.state) for c in made]
