"""The events the notifier publishes, queued through its outbox in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeAlias

from baiying_notifier.campaigns import reach
from baiying_notifier.domain.pacing import PRIORITY, SIGNIN_MESSAGE
from baiying_shared.db import outbox
from baiying_shared.deps import PgConn
from baiying_shared.events import contacts, deliveries
from baiying_shared.events.catalogue import DELIVERIES_BULK
from baiying_shared.events.envelope import Envelope, wrap

PRODUCER = "notifier"
Conn: TypeAlias = PgConn


def now() -> datetime:
    return datetime.now(UTC)


def delivery_status_event(
    row: Any,
    *,
    status: str,
    error_code: int | None = None,
    sid: str | None = None,
    trace_id: str | None = None,
) -> tuple[str, str, Envelope[Any] | None]:
    """DeliveryStatusChanged for a deliveries row, as an `outbox.add_many` entry."""
    payload = deliveries.DeliveryStatusChanged(
        callout_id=row["callout_id"],
        incident_id=row["incident_id"],
        volunteer_id=row["volunteer_id"],
        channel=row["channel"],
        message=row["message"],
        status=status,
        error_code=error_code,
        provider_sid=sid,
        at=now(),  # type: ignore[arg-type,unused-ignore]
    )
    envelope = wrap(payload, producer=PRODUCER, trace_id=trace_id)
    return status_topic(row), str(row["callout_id"]), envelope


def status_topic(row: Any) -> str:
    """An advisory's alert reports on the bulk topic, so call-outs' statuses never wait."""
    return DELIVERIES_BULK if row.get("priority") == PRIORITY["advisory"] else deliveries.TOPIC


async def delivery_status(
    conn: Conn, *, row: Any, status: str, error_code: int | None = None, sid: str | None = None
) -> None:
    """DeliveryStatusChanged for a deliveries row (a Record or dict with its columns)."""
    if row["message"] == SIGNIN_MESSAGE:  # a sign-in code: no call-out to report on
        return
    if reach.is_campaign(row):  # a campaign SMS: reach for the campaign, not a call-out status
        await reach.on_provider_status(conn, row=row, status=status, error_code=error_code)
        return
    await outbox.add_many(
        conn, [delivery_status_event(row, status=status, error_code=error_code, sid=sid)]
    )


async def contact_flagged(
    conn: Conn, *, phone: str, volunteer_id: uuid.UUID | None, code: int, reason: str
) -> None:
    payload = contacts.ContactFlagged(
        phone=phone, volunteer_id=volunteer_id, error_code=code, reason=reason[:200], at=now()
    )
    await outbox.add(
        conn, topic=contacts.TOPIC, key=phone, envelope=wrap(payload, producer=PRODUCER)
    )


async def opt_changed(
    conn: Conn, *, phone: str, volunteer_id: uuid.UUID | None, opted_out: bool, keyword: str
) -> None:
    """SmsOptChanged for the registry (optouts.change also records it in our table)."""
    payload = contacts.SmsOptChanged(
        phone=phone, volunteer_id=volunteer_id, opted_out=opted_out, keyword=keyword, at=now()
    )
    await outbox.add(
        conn, topic=contacts.TOPIC, key=phone, envelope=wrap(payload, producer=PRODUCER)
    )

