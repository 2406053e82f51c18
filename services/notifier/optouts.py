"""Table opt_outs: the phones that texted an opt-out word (or failed with the carrier's 21610).

The notifier keeps its own copy so it never texts an opted-out phone while the registry's flag is
on its way; `queueing` reads it when it loads a call-out.
"""

from __future__ import annotations

import uuid

from baiying_notifier import events
from baiying_shared.deps import PgConn


async def record(conn: PgConn, *, phone: str, opted_out: bool, keyword: str) -> None:
    """Upsert the phone's current opt state."""
    await conn.execute(
        "INSERT INTO opt_outs (phone, opted_out, keyword) VALUES ($1, $2, $3)"
        " ON CONFLICT (phone) DO UPDATE SET opted_out = $2, keyword = $3, at = now()",
        phone,
        opted_out,
        keyword,
    )


async def is_opted_out(conn: PgConn, phone: str) -> bool:
    """True while the phone's last word (or the carrier's 21610) was an opt-out."""
    return bool(await conn.fetchval(
        "SELECT opted_out FROM opt_outs WHERE phone = $1", phone))


async def change(
    conn: PgConn, *, phone: str, volunteer_id: uuid.UUID | None, opted_out: bool, keyword: str
) -> None:
    """Record the opt state here and tell the registry, in the caller's transaction."""
    await record(conn, phone=phone, opted_out=opted_out, keyword=keyword)
    await events.opt_changed(
        conn, phone=phone, volunteer_id=volunteer_id, opted_out=opted_out, keyword=keyword
    )
