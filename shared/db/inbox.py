"""Idempotent consumption: claim an event id inside the same transaction as its effects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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


_CLAIM_MANY = (
    "INSERT INTO processed_events (event_id, consumer)"
    " SELECT e, $2 FROM unnest($1::uuid[]) AS e ORDER BY e"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


async def claim_many(
    conn: asyncpg.Connection[Any], *, event_ids: list[uuid.UUID], consumer: str
) -> set[uuid.UUID]:
    """The ids of a batch seen for the first time (the batch consumer's `claim`).

    Sorted, so two instances claiming overlapping polls (a rebalance) lock in one order.
    """
    rows = await conn.fetch(_CLAIM_MANY, sorted(set(event_ids)), consumer)
    return {r["event_id"] for r in rows}


async def claim_many_and_read(
    conn: asyncpg.Connection[Any], *, event_ids: list[uuid.UUID], consumer: str,
    read: str, args: Sequence[Any] = (),
) -> tuple[set[uuid.UUID], list[asyncpg.Record]]:
    """claim_many, and `read` (its parameters from $3) in the same statement: one round trip
    where a poll's handler needs both. The read sees the rows as they were before the claim
    (one snapshot), so it must not read processed_events."""
    rows = await conn.fetch(
        f"WITH fresh AS ({_CLAIM_MANY})"
        " SELECT c.fresh_ids_, r.* FROM (SELECT array_agg(event_id) AS fresh_ids_ FROM fresh) c"
        f" LEFT JOIN (SELECT true AS read_, q.* FROM ({read}) q) r ON true",
        sorted(set(event_ids)), consumer, *args,
    )
    return set(rows[0]["fresh_ids_"] or ()), [r for r in rows if r["read_"]]
