"""Idempotent consumption: claim an event id inside the same transaction as its effects."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def claim(conn: asyncpg.Connection[Any], *, event_id: uuid.UUID, consumer: str) -> bool:
    """True the first time this event id is seen; False for a redelivered copy."""
    row = await conn.fetchval(
        "INSERT INTO processed_events (event_id, consumer) VALUES ($1, $2)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING 1",
        event_id,
        consumer,
    )
    return row is not None


async def claim_many(
    conn: asyncpg.Connection[Any], *, event_ids: list[uuid.UUID], consumer: str
) -> set[uuid.UUID]:
    """The ids of a batch seen for the first time (the batch consumer's `claim`).

    Sorted, so two instances claiming overlapping polls (a rebalance) lock in one order.
    """
    rows = await conn.fetch(
        "INSERT INTO processed_events (event_id, consumer)"
        " SELECT e, $2 FROM unnest($1::uuid[]) AS e ORDER BY e"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        sorted(set(event_ids)),
        consumer,
    )
    return {r["event_id"] for r in rows}
