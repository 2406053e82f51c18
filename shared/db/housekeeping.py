"""Pruning of bookkeeping tables that would otherwise grow forever.

Published outbox rows are only needed until the broker has them; an inbox entry must
outlive the longest time a copy of its event can still arrive (topic retention), so it
is kept a day longer than that.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg

from baiying_shared.logging import get_logger

log = get_logger(__name__)

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Prune:
    """Delete rows of `table` whose `column` is older than `keep_s` seconds."""

    table: str
    column: str
    keep_s: int


# Every schema has these (shared/db/migrations); services may add their own.
COMMON: tuple[Prune, ...] = (
    Prune("outbox", "published_at", 3600),
    Prune("processed_events", "processed_at", 8 * DAY_S),
)


async def prune_once(pool: asyncpg.Pool[Any], prunes: tuple[Prune, ...]) -> dict[str, int]:
    """Run each prune once; return rows deleted per table."""
    deleted = {}
    for p in prunes:
        status = await pool.execute(
            f"DELETE FROM {p.table} WHERE {p.column} < now() - make_interval(secs => $1)",
            float(p.keep_s),
        )
        deleted[p.table] = int(status.split()[-1])
    return deleted


async def keep_tidy(pool: asyncpg.Pool[Any], prunes: tuple[Prune, ...], *, every_s: float) -> None:
    """Prune forever, every `every_s` seconds; a failure is logged and retried next time."""
    while True:
        try:
            deleted = await prune_once(pool, prunes)
            if any(deleted.values()):
                log.info("pruned bookkeeping rows", **deleted)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("pruning failed; will retry", error=str(exc))
        await asyncio.sleep(every_s)  # a timer, not a condition: housekeeping runs on a clock
