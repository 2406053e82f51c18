"""The sandbox's memory: messages, per-sender rate buckets, opt-outs and counters."""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from baiying_sandbox.config import Behaviour

API_VERSION = "2010-04-01"

# Errors Twilio answers synchronously on create (HTTP 400); any other configured code is
# accepted first and then fails asynchronously (status "undelivered" with ErrorCode).
SYNC_ERRORS: dict[int, str] = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by {to}",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number",
    21614: "'To' number {to} is not a valid mobile number",
}
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD"})
START_WORDS = frozenset({"START", "UNSTOP"})


def rfc2822(at: datetime | None) -> str | None:
    return format_datetime(at, usegmt=True) if at else None


def segments(body: str) -> int:
    """Rough segment count (ASCII as GSM-7, anything else as UCS-2)."""
    units = len(body.encode("utf-16-le")) // 2
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if units <= single else -(-units // multi)


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    created: datetime
    status: str = "queued"
    sent: datetime | None = None
    updated: datetime | None = None
    error_code: int | None = None
    direction: str = "outbound-api"

    def to_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created),
            "date_sent": rfc2822(self.sent),
            "date_updated": rfc2822(self.updated or self.created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None if self.error_code is None else f"error {self.error_code}",
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "to": self.to,
            "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }


class _Bucket:
    """Token bucket holding one second of burst, like a carrier's per-sender queue limit."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, max(1.0, rate)
        self.tokens, self.stamp = self.capacity, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Store:
    behaviour: Behaviour
    rng: random.Random = field(default_factory=random.Random)
    messages: dict[str, Message] = field(default_factory=dict)
    by_to: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    conversations: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    accepted_at: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    opted_out: set[str] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every message and counter (behaviour stays)."""
        for part in (
            self.messages,
            self.by_to,
            self.conversations,
            self.accepted_at,
            self._buckets,
        ):
            part.clear()
        self.opted_out.clear()
        self.counters.clear()

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._buckets.clear()  # a new MPS starts with a fresh bucket

    def admit(self, sender: str) -> bool:
        """Rate-limit one create for `sender`; False means answer 20429."""
        if self.behaviour.mps <= 0:
            return True
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = self._buckets[sender] = _Bucket(self.behaviour.mps)
        return bucket.take()

    def add(
        self,
        *,
        account_sid: str,
        to: str,
        from_: str,
        body: str,
        service_sid: str | None,
        callback: str | None,
    ) -> Message:
        """Record an accepted outbound message."""
        now = datetime.now(UTC)
        msg = Message(
            "SM" + secrets.token_hex(16), account_sid, to, from_, body, service_sid, callback, now
        )
        self.messages[msg.sid] = msg
        self.by_to[to].append(msg.sid)
        self.accepted_at[from_].append(time.monotonic())
        self.conversations[to].append(
            {"direction": "in", "sid": msg.sid, "from": from_, "body": body, "at": now.isoformat()}
        )
        self.counters["created"] += 1
        return msg

    def received(self, number: str) -> list[Message]:
        """Outbound messages this phone number received, oldest first."""
        return [self.messages[s] for s in self.by_to.get(number, [])]

    def note_reply(self, *, number: str, body: str, sid: str) -> None:
        """Remember a phone's reply, and honour carrier STOP/START like Twilio does."""
        word = body.strip().upper()
        if word in STOP_WORDS:
            self.opted_out.add(number)
        elif word in START_WORDS:
            self.opted_out.discard(number)
        self.conversations[number].append(
            {"direction": "out", "sid": sid, "body": body, "at": datetime.now(UTC).isoformat()}
        )

    def last_sender_to(self, number: str) -> str | None:
        sids = self.by_to.get(number)
        return self.messages[sids[-1]].from_ if sids else None
