"""Endpoints that revoke sessions; mounted by a service with a runtime (the dispatcher does).

The revocation is written to the service's outbox in one transaction and so reaches every
process through auth.revocations.v1; it is also applied to this process at once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from baiying_shared.auth import AdminPrincipal, CurrentPrincipal, revocations
from baiying_shared.db import outbox
from baiying_shared.events.envelope import wrap
from baiying_shared.events.revocations import TOPIC, SessionRevoked
from baiying_shared.logging import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/v1/auth", tags=["auth"])


class RevocationIn(BaseModel):
    """Whose sessions to end: one session (`session_id`) or, without it, all of them."""

    model_config = ConfigDict(extra="forbid")
    sub: str = Field(min_length=1, max_length=200)
    session_id: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(default="", max_length=200)


class RevocationOut(BaseModel):
    sub: str
    session_id: str | None
    status: str = "revoked"


async def revoke(
    request: Request, *, sub: str, session_id: str | None, by: str, reason: str
) -> RevocationOut:
    """Queue the revocation for every process and apply it here now."""
    runtime = request.app.state.runtime
    at = datetime.now(UTC)
    payload = SessionRevoked(sub=sub, session_id=session_id, at=at, by=by, reason=reason)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await outbox.add(
            conn, topic=TOPIC, key=sub, envelope=wrap(payload, producer=runtime.service)
        )
    revocations(request.app.state).revoke(sub=sub, session_id=session_id, at=time.time())
    log.info("auth.revoked", sub=sub, session_id=session_id, by=by)
    return RevocationOut(sub=sub, session_id=session_id)


class MeOut(BaseModel):
    """Who the service takes the caller for: what the consoles' header shows."""

    sub: str
    role: str
    districts: list[str]
    name: str | None


@router.get("/me")
async def me(principal: CurrentPrincipal) -> MeOut:
    """The caller as this service maps their token (role and districts from the claims)."""
    return MeOut(sub=principal.sub, role=principal.role, districts=list(principal.districts),
                 name=principal.name)


@router.post("/sign-out", status_code=status.HTTP_202_ACCEPTED)
async def sign_out(request: Request, principal: CurrentPrincipal) -> RevocationOut:
    """End the caller's own session (every token of it, on every service)."""
    return await revoke(
        request,
        sub=principal.sub,
        session_id=principal.session_id,
        by=principal.sub,
        reason="signed out",
    )


@router.post("/revocations", status_code=status.HTTP_202_ACCEPTED)
async def revoke_user(
    request: Request, body: RevocationIn, principal: AdminPrincipal
) -> RevocationOut:
    """An admin ends a user's session, or all of their sessions."""
    return await revoke(
        request, sub=body.sub, session_id=body.session_id, by=principal.sub, reason=body.reason
    )
