"""notify.contacts.v1 -> the volunteer's opt-out flag and phone flag (each event once)."""

from __future__ import annotations

from typing import Any

import structlog

from baiying_registry import service
from baiying_registry.domain import InvalidPhone, normalize_phone
from baiying_shared.db import inbox
from baiying_shared.events import contacts
from baiying_shared.events.envelope import Envelope
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.logging import get_logger
from baiying_shared.runtime import Runtime

log = get_logger(__name__)
GROUP = "registry"


def flag_text(error_code: int, reason: str) -> str:
    """What phone_flag holds: the gateway's code first, so it can be matched on."""
    return f"{error_code}: {reason}"[:200]


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return raw  # stored phones are E.164; an odd one simply matches nobody


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """The registry's one consumer: contact events from the notifier."""

    async def on_opt(env: Envelope[Any]) -> None:
        p: contacts.SmsOptChanged = env.payload
        await _apply(env, phone=p.phone, sms_opt_out=p.opted_out)

    async def on_flag(env: Envelope[Any]) -> None:
        p: contacts.ContactFlagged = env.payload
        await _apply(env, phone=p.phone, phone_flag=flag_text(p.error_code, p.reason))

    async def _apply(env: Envelope[Any], *, phone: str, **change: Any) -> None:
        # The snapshot we publish carries the notifier's trace id: one reply, one trace.
        with structlog.contextvars.bound_contextvars(trace_id=env.trace_id):
            async with rt.pool.acquire() as conn, conn.transaction():
                if not await inbox.claim(conn, event_id=env.event_id, consumer=GROUP):
                    return
                changed = await service.set_contact_state(conn, phone=_phone(phone), **change)
            log.info("contact event applied", type=env.type, volunteer_id=str(changed))

    handle = route({contacts.SmsOptChanged: on_opt, contacts.ContactFlagged: on_flag})
    return [EventConsumer(settings=rt.settings, group_id=GROUP, topics=[contacts.TOPIC],
                          handle=handle, dead_letters=rt.producer)]
