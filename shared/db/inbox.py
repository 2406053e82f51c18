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
