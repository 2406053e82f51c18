"""Table subscribers: residents who asked for prevention notices, apart from volunteers.

Consent is the resident's own text and our exact answer, with the time; 退订 ends the
subscription (the consent record stays), 删除 removes the row altogether.
"""

from __future__ import annotations

from typing import Any

from baiying_notifier.campaigns.reach import MESSAGE
from baiying_shared.deps import PgConn
from baiying_shared.ids import new_id


async def subscribe(
    conn: PgConn, *, phone: str, district: str | None, language: str, text: str, answer: str
) -> None:
    """Start (or restart, for another district) the phone's subscription, consent recorded."""
    await conn.execute(
        "INSERT INTO subscribers (subscriber_id, phone, district, language, consent_text,"
        " confirmation) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (phone) DO UPDATE SET"
        " district = $3, language = $4, consent_text = $5, confirmation = $6,"
        " consent_at = now(), ended_at = NULL, ended_text = NULL",
        new_id(), phone, district, language, text, answer,
    )  # fmt: skip


async def live(conn: PgConn, phone: str) -> Any:
    """The phone's live subscription, or None."""
    return await conn.fetchrow(
        "SELECT * FROM subscribers WHERE phone = $1 AND ended_at IS NULL", phone
    )


async def end(conn: PgConn, *, phone: str, text: str) -> Any:
    """End the live subscription (退订) and what still waits for it; the ended row, or None."""
    row = await conn.fetchrow(
        "UPDATE subscribers SET ended_at = now(), ended_text = $2"
        " WHERE phone = $1 AND ended_at IS NULL RETURNING *",
        phone, text,
    )  # fmt: skip
    if row is not None:
        await _cancel_waiting(conn, row["subscriber_id"])
    return row


async def delete(conn: PgConn, phone: str) -> Any:
    """Remove the phone's row (删除), live or ended, with its campaign messages; the row or None.

    The messages hold the phone and open the page; reach already published stays counted.
    """
    row = await conn.fetchrow("DELETE FROM subscribers WHERE phone = $1 RETURNING *", phone)
    if row is not None:
        await _cancel_waiting(conn, row["subscriber_id"])
        await conn.execute(
            "DELETE FROM campaign_messages WHERE recipient_id = $1 AND audience = 'resident'",
            row["subscriber_id"],
        )
    return row


async def _cancel_waiting(conn: PgConn, subscriber_id: Any) -> None:
    """Campaign SMS to this resident not yet sent are never sent (locked in id order)."""
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', updated_at = now() WHERE id IN ("
        " SELECT id FROM deliveries WHERE volunteer_id = $1 AND message = $2"
        " AND state = 'pending' ORDER BY id FOR UPDATE)",
        subscriber_id, MESSAGE,
    )  # fmt: skip


async def known(conn: PgConn, phone: str) -> Any:
    """The phone's row, live or ended (its language answers a later text), or None."""
    return await conn.fetchrow("SELECT * FROM subscribers WHERE phone = $1", phone)
