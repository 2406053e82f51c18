"""The round timer: when an incident's wait is over, widen or give up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_dispatcher import mobilise
from baiying_dispatcher.config import DispatcherSettings
from baiying_shared.logging import get_logger

log = get_logger(__name__)


async def tick(pool: asyncpg.Pool[Any], *, settings: DispatcherSettings) -> int:
    """Advance every incident whose round is due; return how many moved."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        due = await mobilise.due_rounds(conn, now=now)
    moved = 0
    for incident_id, round_no in due:
        # One transaction per incident: one failure does not hold back the others, and the
        # round guard makes a second timer (another process) a harmless no-op.
        async with pool.acquire() as conn, conn.transaction():
            done = await mobilise.advance_round(
                conn, settings=settings, incident_id=incident_id, expected_round=round_no,
                clock=mobilise.clock_for(settings, now),
            )
        moved += done is not None
    return moved


async def run_timer(pool: asyncpg.Pool[Any], *, settings: DispatcherSettings) -> None:
    """Tick forever; errors are logged and the next tick tries again."""
    while True:
        try:
            await tick(pool, settings=settings)
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("round tick failed", error=str(exc))
        await asyncio.sleep(settings.dispatch_tick_s)
