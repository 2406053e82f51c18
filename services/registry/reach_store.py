"""Reachability rows: read, move through the domain rules, audit, republish the volunteer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from baiying_registry import repo
from baiying_registry.reachability import Reach, snapshot_flags
from baiying_shared.errors import NotFound

_COLS = "state, set_by, keyword, error_code, failures, since"


async def current(conn: repo.Conn, volunteer_id: uuid.UUID, channel: str = "sms") -> Reach:
    """The channel's state (ok when no row)."""
    row = await conn.fetchrow(
        f"SELECT {_COLS} FROM reachability WHERE volunteer_id = $1 AND channel = $2",
        volunteer_id, channel,
    )
    return Reach(**dict(row)) if row else Reach()


async def channels(conn: repo.Conn, volunteer_id: uuid.UUID) -> dict[str, Reach]:
    """Every channel the volunteer has, with its state."""
    row = await repo.get_volunteer(conn, volunteer_id)
    return {c: await current(conn, volunteer_id, c) for c in row["channels"]}


async def move(
    conn: repo.Conn, *, volunteer_id: uuid.UUID, change: Callable[[Reach], Reach], actor: str,
    reason: str, channel: str = "sms",
) -> Reach:
    """Apply `change` under the volunteer's row lock; on a change, audit and republish."""
    async with conn.transaction():
        if not await conn.fetchval(
            "SELECT 1 FROM volunteers WHERE id = $1 FOR UPDATE", volunteer_id
        ):
            raise NotFound(f"no volunteer {volunteer_id}")
        before = await current(conn, volunteer_id, channel)
        after = change(before)
        if after == before:
            return before
        await _store(conn, volunteer_id, channel, after)
        await conn.execute(
            "INSERT INTO reachability_audit (volunteer_id, channel, from_state, to_state, actor,"
            " reason) VALUES ($1, $2, $3, $4, $5, $6)",
            volunteer_id, channel, before.state, after.state, actor, reason[:500],
        )
        if channel == "sms" and snapshot_flags(after) != snapshot_flags(before):
            opt_out, flag = snapshot_flags(after)
            await conn.execute(
                "UPDATE volunteers SET sms_opt_out = $2, phone_flag = $3,"
                " revision = revision + 1, updated_at = now() WHERE id = $1",
                volunteer_id, opt_out, flag,
            )
            await repo.publish_volunteer(conn, volunteer_id)
        return after


async def _store(conn: repo.Conn, volunteer_id: uuid.UUID, channel: str, r: Reach) -> None:
    args: list[Any] = [volunteer_id, channel, r.state, r.set_by, r.keyword, r.error_code,
                       r.failures, r.since]
    await conn.execute(
        "INSERT INTO reachability (volunteer_id, channel, state, set_by, keyword, error_code,"
        " failures, since) VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()))"
        " ON CONFLICT (volunteer_id, channel) DO UPDATE SET state = $3, set_by = $4,"
        " keyword = $5, error_code = $6, failures = $7, since = coalesce($8, now())",
        *args,
    )


async def forget(conn: repo.Conn, volunteer_id: uuid.UUID) -> None:
    """A new phone number starts reachable: the old number's states do not carry over."""
    await conn.execute("DELETE FROM reachability WHERE volunteer_id = $1", volunteer_id)
