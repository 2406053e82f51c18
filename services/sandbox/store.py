"""The sandbox's memory: messages in arrival order, opt-outs, counters and carrier timestamps."""

from __future__ import annotations

import itertools
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from baiying_sandbox.config import Behaviour
from baiying_shared.sms.segments import count as count_segments

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
FINAL = frozenset({"delivered", "undelivered", "failed", "canceled"})


def rfc2822(at: datetime | None) -> str | None:
    """Twilio's date format: `Thu, 30 Jul 2015 20:12:31 +0000`."""
    return at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") if at else None


def segments(body: str) -> int:
    """GSM-7 (extension characters cost two septets) or UCS-2 parts, as Twilio bills them."""
    return count_segments(body).segments


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    created: datetime
    seq: int = 0
    status: str = "queued"
    sent: datetime | None = None
    updated: datetime | None = None
    error_code: int | None = None
    direction: str = "outbound-api"
    validity_s: float | None = None
    send_at: datetime | None = None
    num_segments: int = 1

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
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "to": self.to,
            "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }


@dataclass
class Store:
    behaviour: Behaviour
    rng: random.Random = field(default_factory=random.Random)
    messages: dict[str, Message] = field(default_factory=dict)
    by_to: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    conversations: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # The carrier clock: loop time at which each message reached `sent`, per From number.
    sent_at: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    opted_out: set[str] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        """Forget every message and counter (behaviour stays)."""
        for part in (self.messages, self.by_to, self.conversations, self.sent_at):
            part.clear()
        self.opted_out.clear()
        self.counters.clear()

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    def add(
        self,
        *,
        account_sid: str,
        to: str,
        from_: str | None,
        body: str,
        service_sid: str | None,
        callback: str | None,
        status: str = "queued",
        num_segments: int | None = None,
    ) -> Message:
        """Record an accepted outbound message."""
        now = datetime.now(UTC)
        msg = Message(
            "SM" + secrets.token_hex(16),
            account_sid,
            to,
            from_,
            body,
            service_sid,
            callback,
            now,
            seq=next(self._seq),
            status=status,
            num_segments=segments(body) if num_segments is None else num_segments,
        )
        self.messages[msg.sid] = msg
        self.by_to[to].append(msg.sid)
        self.conversations[to].append(
            {"direction": "in", "sid": msg.sid, "from": from_, "body": body, "at": now.isoformat()}
        )
        self.counters["created"] += 1
        return msg

    def received(self, number: str) -> list[Message]:
        """Outbound messages this phone number received, oldest first."""
        return [self.messages[s] for s in self.by_to.get(number, []) if s in self.messages]

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
        for msg in reversed(self.received(number)):
            if msg.from_:
                return msg.from_
        return None
