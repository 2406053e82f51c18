"""notify.contacts.v1 -> the volunteer's SMS reachability state (each event once)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import structlog

from baiying_registry import reach_store, reachability
from baiying_registry.domain import InvalidPhone, normalize_phone
from baiying_registry.reachability import Reach
from baiying_shared.db import inbox
from baiying_shared.deps import PgPool
from baiying_shared.events import contacts
from baiying_shared.events.envelope import Envelope, Payload
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


async def on_opt(pool: PgPool, env: Envelope[Any]) -> None:
    """A phone opted out of (or back into) SMS."""
    p: contacts.SmsOptChanged = env.payload

    def change(cur: Reach) -> Reach:
        return reachability.on_keyword(cur, opted_out=p.opted_out, keyword=p.keyword, at=p.at)

    await _apply(pool, env, phone=p.phone, change=change, reason=f"keyword {p.keyword}")


async def on_flag(pool: PgPool, env: Envelope[Any]) -> None:
    """The carrier refused a phone (blocked, invalid) or could not deliver to it."""
    p: contacts.ContactFlagged = env.payload

    def change(cur: Reach) -> Reach:
        return reachability.on_flag(cur, code=p.error_code, at=p.at)

    await _apply(pool, env, phone=p.phone, change=change,
                 reason=flag_text(p.error_code, p.reason))


async def _apply(
    pool: PgPool, env: Envelope[Any], *, phone: str, change: Callable[[Reach], Reach], reason: str
) -> None:
    # The snapshot we publish carries the notifier's trace id: one reply, one trace.
    with structlog.contextvars.bound_contextvars(trace_id=env.trace_id):
        async with pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, event_id=env.event_id, consumer=GROUP):
                return
            vid = await conn.fetchval("SELECT id FROM volunteers WHERE phone = $1", _phone(phone))
            if vid is None:
                return  # not one of ours (or since deleted): nothing to change
            after = await reach_store.move(conn, volunteer_id=vid, change=change,
                                           actor="notifier", reason=reason)
        log.info("contact event applied", type=env.type, volunteer_id=str(vid), sms=after.state)


# The registry's one handler map: payload class -> handler(pool, envelope).
HANDLERS: dict[type[Payload], Callable[[PgPool, Envelope[Any]], Awaitable[None]]] = {
    contacts.SmsOptChanged: on_opt,
    contacts.ContactFlagged: on_flag,
}
TOPICS = [contacts.TOPIC]


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """The registry's one consumer: contact events from the notifier."""
    handle = route({kind: partial(h, rt.pool) for kind, h in HANDLERS.items()})
    return [EventConsumer(settings=rt.settings, group_id=GROUP, topics=TOPICS,
                          handle=handle, dead_letters=rt.producer)]
