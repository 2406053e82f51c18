"""Sign-in service functions: ask for a code, trade a code for a device session, revoke."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from baiying_notifier import queueing
from baiying_notifier.gateway import OutboundSms, SmsGateway
from baiying_notifier.signin import domain, store
from baiying_shared.auth import mint_device_token
from baiying_shared.db import outbox
from baiying_shared.events.envelope import wrap
from baiying_shared.events.revocations import TOPIC, SessionRevoked
from baiying_shared.logging import get_logger
from baiying_shared.oidc_revocations import MAX_SESSION_S
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)
SESSION_TTL_S = 30 * 24 * 3600  # a phone stays signed in for a month unless revoked
# A revocation must outlive the session it ends, or a forgotten one would readmit the device.
assert SESSION_TTL_S < MAX_SESSION_S


@dataclass(frozen=True)
class SignIn:
    settings: CommonSettings
    pool: asyncpg.Pool[Any]
    gateway: SmsGateway
    sender: str | None
    limits: domain.Limits = field(default_factory=domain.Limits)
    clock: Callable[[], float] = time.time

    @property
    def pepper(self) -> bytes:
        # Derived, so the code hashes change whenever the service secret is rotated.
        secret = self.settings.jwt_secret.get_secret_value()
        return hashlib.sha256(f"baiying-signin:{secret}".encode()).digest()


async def request_code(signin: SignIn, *, phone: str, address: str) -> OutboundSms | None:
    """The SMS to send if the phone is a volunteer's and no limit stops it (code stored)."""
    now = signin.clock()
    async with signin.pool.acquire() as conn, conn.transaction():
        # One request at a time per phone, so two racing requests cannot both pass the limits.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"signin:{phone}")
        phone_sends, asks = await store.recent_requests(
            conn, phone=phone, address=address, since=now - signin.limits.window_s
        )
        stop = domain.may_send(
            phone_sends=phone_sends, address_requests=asks, now=now, limits=signin.limits
        )
        known = await store.volunteer_for_phone(conn, phone)
        sent = stop is None and known is not None
        await store.record_request(conn, phone=phone, address=address, sent=sent, at=now)
        if not sent or known is None:
            log.info("signin.code_not_sent", reason=stop or "unknown phone")
            return None
        code, pending = domain.issue(signin.pepper, phone, now)
        await store.save_code(conn, pending)
    body = domain.sms_text(code, known[1], signin.limits)
    return OutboundSms(to=phone, body=body, sender=signin.sender, status_callback=None)


async def send_code(signin: SignIn, sms: OutboundSms) -> None:
    """Queue the code for the paced senders (after the answer went out, so timing tells
    nothing): behind call-out alerts, ahead of advisories (queueing.signin_code)."""
    try:
        async with signin.pool.acquire() as conn, conn.transaction():
            known = await store.volunteer_for_phone(conn, sms.to)
            if known is None:
                return
            seqs = await queueing.signin_code(
                conn, volunteer_id=known[0], phone=sms.to, body=sms.body
            )
            await queueing.announce(conn, seqs)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("signin.sms_not_queued", error=str(exc))


async def verify_code(
    signin: SignIn, *, phone: str, code: str, label: str
) -> tuple[str, uuid.UUID] | None:
    """(token, device id) for the right code; None otherwise (the reason is only logged)."""
    now = signin.clock()
    async with signin.pool.acquire() as conn, conn.transaction():
        pending = await store.locked_code(conn, phone)
        verdict = domain.check(signin.pepper, pending, code=code, now=now, limits=signin.limits)
        await store.put_code(conn, phone, verdict.pending)
        known = await store.volunteer_for_phone(conn, phone) if verdict.ok else None
        if known is None:
            log.info("signin.refused", reason=verdict.reason)
            return None
        device_id = await store.add_device(conn, volunteer_id=known[0], label=label)
    token = mint_device_token(
        signin.settings, volunteer_id=known[0], device_id=device_id, ttl_s=SESSION_TTL_S
    )
    return token, device_id


async def revoke_device(
    signin: SignIn, *, device_id: uuid.UUID, by: str, owner: uuid.UUID | None
) -> uuid.UUID | None:
    """Revoke a device (only the owner's if `owner` is set) for every process; its volunteer."""
    async with signin.pool.acquire() as conn, conn.transaction():
        if owner is not None:
            mine = await conn.fetchval(
                "SELECT 1 FROM devices WHERE device_id = $1 AND volunteer_id = $2",
                device_id,
                owner,
            )
            if not mine:
                return None
        volunteer_id = await store.revoke_device(conn, device_id)
        if volunteer_id is None:
            return None
        event = SessionRevoked(
            sub=f"volunteer:{volunteer_id}",
            session_id=str(device_id),
            at=datetime.now(UTC),
            by=by,
            reason="device revoked",
        )
        await outbox.add(
            conn, topic=TOPIC, key=event.sub, envelope=wrap(event, producer="notifier")
        )
    return volunteer_id
