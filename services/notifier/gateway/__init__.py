"""The SMS provider port. Domain code sees only this; Twilio lives in gateway/twilio.py.

Opt-outs, rate limits, retries and audit are the notifier's business and stay outside
the adapter; an adapter only sends, looks up, fetches, and says what it can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Capabilities:
    supports_status_callback: bool  # the provider calls us back with delivery progress
    supports_lookup: bool  # we can list recent messages to a number (reconciliation)
    # we can read one message's current status by id (the status sweep; callbacks get lost)
    supports_fetch: bool = False
    # we can ask the provider to cancel a message: Twilio cancels only `scheduled` ones
    supports_cancel: bool = False
    # ...and also one still `queued` in a sender's queue (Twilio refuses: 30409; the sandbox
    # can, with its `cancel_queued` behaviour). Only then does stuck.py cancel and re-route.
    cancels_queued: bool = False
    # a send may carry a validity (Twilio's ValidityPeriod): the carrier fails a message
    # still queued past it (status `failed`, 30036), and we re-route it on that callback
    supports_validity: bool = False


@dataclass(frozen=True)
class OutboundSms:
    to: str
    body: str
    sender: str | None  # a From number; None uses the messaging service
    status_callback: str | None
    validity_s: int | None = None  # ValidityPeriod: the carrier drops it if still queued then


@dataclass(frozen=True)
class Submitted:
    sid: str
    status: str


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    body: str
    status: str
    created: datetime | None
    error_code: int | None


class GatewayError(Exception):
    """The provider refused or failed. `ambiguous`: it may have accepted the message anyway."""

    def __init__(
        self, *, status: int | None, code: int | None, message: str, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.ambiguous = status, code, message, ambiguous


class SmsGateway(Protocol):
    capabilities: Capabilities

    async def send(self, sms: OutboundSms) -> Submitted:
        """Hand one message to the provider; raise GatewayError if it was not taken."""
        ...

    async def recent_to(self, *, to: str, since: datetime) -> list[SentMessage]:
        """Messages to `to` created at or after `since`, newest first."""
        ...

    async def fetch(self, sid: str) -> SentMessage:
        """The message `sid` as the provider holds it now; GatewayError if it cannot say."""
        ...

    async def cancel(self, sid: str) -> None:
        """Ask the provider not to send `sid`; GatewayError if it refuses (it may have left)."""
        ...

    async def close(self) -> None: ...
