"""Topic auth.revocations.v1 — key = subject. Sessions and devices that must stop working now."""

from __future__ import annotations

from datetime import datetime

from baiying_shared.events.envelope import Payload, event

TOPIC = "auth.revocations.v1"


@event("auth.session_revoked", 1)
class SessionRevoked(Payload):
    """Refuse `sub`'s tokens: one session/device, or (session_id None) all issued up to `at`."""

    sub: str
    session_id: str | None = None
    at: datetime
    by: str
    reason: str = ""
