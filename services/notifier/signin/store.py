"""SQL for sign-in codes, request windows and devices (notifier schema)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from baiying_notifier.signin.domain import PendingCode

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg

    Conn: TypeAlias = asyncpg.Connection[Any]


async def volunteer_for_phone(conn: Conn, phone: str) -> tuple[uuid.UUID, str] | None:
    """The active volunteer (and language) behind a phone.

    From the registry's snapshots (table volunteers, signin.roster), so someone never called
    out can sign in; a suspended volunteer cannot. A phone the snapshots do not know (yet)
    falls back to the call-outs this notifier received.
    """
    row = await conn.fetchrow(
        "SELECT volunteer_id, language, status FROM volunteers WHERE phone = $1"
        " ORDER BY status = 'active' DESC, revision DESC LIMIT 1",
        phone,
    )
    if row is not None:
        return (row["volunteer_id"], row["language"]) if row["status"] == "active" else None
    row = await conn.fetchrow(
        "SELECT volunteer_id, language FROM callouts WHERE phone = $1"
        " ORDER BY issued_at DESC LIMIT 1",
        phone,
    )
    return (row["volunteer_id"], row["language"]) if row else None


async def recent_requests(
    conn: Conn, *, phone: str, address: str, since: float
) -> tuple[list[float], list[float]]:
    """(times codes were sent to `phone`, times `address` asked) since `since`."""
    phone_sends = await conn.fetch(
        "SELECT at FROM signin_requests WHERE phone = $1 AND sent AND at >= $2", phone, since
    )
    address_asks = await conn.fetch(
        "SELECT at FROM signin_requests WHERE address = $1 AND at >= $2", address, since
    )
    return [r["at"] for r in phone_sends], [r["at"] for r in address_asks]


async def record_request(conn: Conn, *, phone: str, address: str, sent: bool, at: float) -> None:
    await conn.execute(
        "INSERT INTO signin_requests (phone, address, sent, at) VALUES ($1, $2, $3, $4)",
        phone,
        address,
        sent,
        at,
    )


async def save_code(conn: Conn, pending: PendingCode) -> None:
    """Store a code for the phone, replacing any earlier one."""
    await conn.execute(
        "INSERT INTO signin_codes (phone, digest, issued_at, attempts) VALUES ($1, $2, $3, 0)"
        " ON CONFLICT (phone) DO UPDATE SET digest = EXCLUDED.digest,"
        " issued_at = EXCLUDED.issued_at, attempts = 0",
        pending.phone,
        pending.digest,
        pending.issued_at,
    )


async def locked_code(conn: Conn, phone: str) -> PendingCode | None:
    """The phone's code, row-locked so concurrent guesses are counted one by one."""
    row = await conn.fetchrow(
        "SELECT phone, digest, issued_at, attempts FROM signin_codes WHERE phone = $1 FOR UPDATE",
        phone,
    )
    return PendingCode(**dict(row)) if row else None


async def put_code(conn: Conn, phone: str, pending: PendingCode | None) -> None:
    if pending is None:
        await conn.execute("DELETE FROM signin_codes WHERE phone = $1", phone)
    else:
        await conn.execute(
            "UPDATE signin_codes SET attempts = $2 WHERE phone = $1", phone, pending.attempts
        )


async def add_device(conn: Conn, *, volunteer_id: uuid.UUID, label: str) -> uuid.UUID:
    device_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO devices (device_id, volunteer_id, label) VALUES ($1, $2, $3)",
        device_id,
        volunteer_id,
        label,
    )
    return device_id


async def devices_of(conn: Conn, volunteer_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT device_id, label, created_at FROM devices"
        " WHERE volunteer_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC",
        volunteer_id,
    )
    return [dict(r) for r in rows]


async def revoke_device(conn: Conn, device_id: uuid.UUID) -> uuid.UUID | None:
    """Mark the device revoked; its volunteer id, or None if there was no live device."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "UPDATE devices SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL"
        " RETURNING volunteer_id",
        device_id,
    )
