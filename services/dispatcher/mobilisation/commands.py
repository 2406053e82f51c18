"""Entry points for the dispatcher's edges (consumers, HTTP routes): open a unit of work at
the dispatch clock and run one handler. Neither edge imports the other."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import CalloutState
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.unit_of_work import PgUnitOfWork
from baiying_dispatcher.repo import Callout, Incident


def unit_of_work(
    conn: asyncpg.Connection[Any], settings: DispatcherSettings, *, now: datetime | None = None,
    join: bool = False, batch: bool = False,
) -> PgUnitOfWork:
    """A unit of work judged by the dispatch time zone's clock at `now` (default: now);
    `join`: in the caller's transaction, no savepoint; `batch`: notices once (PgUnitOfWork)."""
    clock = Clock.at(now or datetime.now(UTC), settings.dispatch_timezone)
    return PgUnitOfWork(conn, settings=settings, clock=clock, join=join, batch=batch)


async def apply_reply(
    conn: asyncpg.Connection[Any], *, settings: DispatcherSettings, incident: Incident,
    callout: Callout, action: str, at: datetime,
) -> CalloutState | None:
    """Apply one reply; the call-out's new state, or None if the reply changes nothing."""
    async with unit_of_work(conn, settings) as uow:
        done = await handlers.reply(
            uow, incident_id=incident.id, callout_id=callout.id, action=action, at=at,
            over_call=settings.dispatch_over_call_factor,
        )
    after = done.callouts[callout.id].state if done else callout.state
    return None if after == callout.state else after
