"""Table webhook_seen: provider callbacks and inbound messages already acted on (replay guard).

Keys are "inbound:<sid>" and "status:<sid>:<status>"; housekeeping prunes them after a week.
"""

from __future__ import annotations

from baiying_shared.deps import PgConn


async def first_time(conn: PgConn, key: str) -> bool:
    """True the first time `key` is seen (inside the caller's transaction)."""
    return (
        await conn.fetchval(
            "INSERT INTO webhook_seen (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", key
        )
        is True
    )


async def mark_seen(conn: PgConn, keys: list[str]) -> None:
    """Mark many keys seen, sorted: callers lock keys before rows, always in one order."""
    await conn.executemany(
        "INSERT INTO webhook_seen (key) VALUES ($1) ON CONFLICT DO NOTHING",
        [(key,) for key in sorted(keys)],
    )


async def first_time_many(conn: PgConn, keys: list[str]) -> set[str]:
    """The keys of `keys` seen here for the first time, in one statement (a key repeated
    in `keys` is inserted once; which copy counts as first is the caller's choice)."""
    rows = await conn.fetch(
        "INSERT INTO webhook_seen (key) SELECT DISTINCT k FROM unnest($1::text[]) AS k"
        " ORDER BY k ON CONFLICT DO NOTHING RETURNING key", keys)  # sorted: one lock order
    return {row["key"] for row in rows}
