"""What keeps a call-out ahead of bulk at the sender: the claim path of its own (a connection
apart from the shared pool) and how far ahead of its pace each sender may run for bulk."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from baiying_notifier import store
from baiying_notifier.config import NotifierSettings
from baiying_notifier.store import Fence
from baiying_shared.db.pool import create_pool, own_if_free


async def claim(
    shared: asyncpg.Pool[Any],
    own: asyncpg.Pool[Any] | None,
    fence: Fence,
    wanted: list[tuple[uuid.UUID, str, int]],
) -> list[int | None]:
    """Call-outs' claims: on the own connection if it is free, else on a free shared one."""
    # On the own connection alone, a fan-out of call-outs ran its claims one after another
    # (measured: half the fan-out rate).
    return await store.claim(own_if_free(own, shared), fence, wanted)


async def open_own_pool(
    shared: asyncpg.Pool[Any], settings: NotifierSettings
) -> asyncpg.Pool[Any]:
    """A connection of its own for call-outs' claims: during an advisory the shared pool's
    connections are all busy with status callbacks, submits and bulk claims."""
    schema = await shared.fetchval("SELECT current_schema()")
    one = settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1})
    return await create_pool(one, schema=str(schema))


def slack(s: NotifierSettings, name: str, names: list[str], bulk: bool) -> float | None:
    """How far ahead `name` may run for the top message (None: the call-outs' whole).

    Bulk never gets more than the call-outs' own (config: at most pacing_tolerance_s).
    With several senders the first (the express one) keeps its bulk queue shorter still,
    so a call-out, which goes to the shortest carrier queue, finds one nearly drained.
    """
    if not bulk:
        return None
    bulk_slack = min(s.pacing_bulk_tolerance_s, s.pacing_tolerance_s)
    if len(names) > 1 and name == min(names):
        return min(bulk_slack, s.pacing_express_tolerance_s)
    return bulk_slack
