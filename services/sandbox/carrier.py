"""What happens after a create: per-sender queues at the segment rate, statuses, callbacks.

Like Twilio, each From number drains its queue at `mps` segments a second (first in, first
out); a message goes queued → sending → sent (its `date_sent`) → delivered. Messaging Service
sends start `accepted` with no `from`, then take the pool number with the shortest queue.
Callbacks are signed exactly as Twilio signs them: HMAC-SHA1 of the callback URL followed
by the sorted form parameters, keyed by the account's auth token (RequestValidator).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections import defaultdict, deque
from datetime import UTC, datetime
from html import unescape

import httpx
from twilio.request_validator import RequestValidator

from baiying_sandbox.store import API_VERSION, Message, Store
from baiying_sandbox.timers import Timers
from baiying_shared.logging import get_logger

log = get_logger(__name__)
_TWIML_MESSAGE = re.compile(r"<Message[^>]*>(.*?)</Message>", re.S)
QUEUE_OVERFLOW = 30001
# A message still queued past its ValidityPeriod is failed and never sent: Twilio's error
# 30036 ("Validity Period Expired"). 30001 stays the pool overload after creation.
VALIDITY_EXPIRED = 30036


class Carrier:
    """Queues, paces and settles accepted messages, and reports each step by callback."""

    def __init__(
        self,
        *,
        store: Store,
        account_sid: str,
        auth_token: str,
        workers: int,
        pool: tuple[str, ...],
    ) -> None:
        self._store, self._account, self._pool = store, account_sid, pool
        self._validator = RequestValidator(auth_token)
        self._callbacks: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._queues: dict[str, deque[Message]] = defaultdict(deque)
        self._queued_segments: dict[str, int] = defaultdict(int)
        self._next_at: dict[str, float] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._http = httpx.AsyncClient(timeout=10)
        self._sent_timers = Timers(self._handed_over)  # sending -> sent
        self._handset_timers = Timers(self._handset)  # sent -> delivered / undelivered
        self._expiry = Timers(self._expire)  # queued past its ValidityPeriod

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._drains.values()]
        for timers in (self._sent_timers, self._handset_timers, self._expiry):
            timers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._http.aclose()

    def reset(self) -> None:
        """Drop every queue (admin reset)."""
        for task in self._drains.values():
            task.cancel()
        self._drains.clear()
        self._expiry.clear()
        self._queues.clear()
        self._queued_segments.clear()
        self._next_at.clear()

    def room(self, sender: str, msg_segments: int, validity_s: float | None) -> bool:
        """Whether `sender`'s queue can take this many more segments (else 21611 / 30001)."""
        b = self._store.behaviour
        if b.mps <= 0:
            return True
        horizon = min(b.queue_limit_s, validity_s or b.queue_limit_s)
        queued = self._queued_segments[sender]
        return queued == 0 or queued + msg_segments <= b.mps * horizon  # empty: it goes now

    def queued_segments(self, sender: str) -> int:
        return self._queued_segments[sender]

    def accepted(self, msg: Message) -> None:
        """A From-send: queue it (no callback for this first `queued`, as Twilio)."""
        assert msg.from_
        self._enqueue(msg.from_, msg)

    def accepted_for_service(self, msg: Message) -> None:
        """A Messaging Service send: pick a pool number just after the answer went out."""
        asyncio.get_running_loop().call_soon(self._assign, msg.sid)

    def scheduled(self, msg: Message) -> None:
        assert msg.send_at
        delay = max((msg.send_at - datetime.now(UTC)).total_seconds(), 0.0)
        asyncio.get_running_loop().call_later(delay, self._release, msg.sid)

    def canceled(self, msg: Message) -> None:
        """A scheduled message will not go (its timer finds it canceled)."""
        self._set(msg, "canceled")

    def withdraw(self, msg: Message) -> bool:
        """Take a message still waiting in its sender's queue out of it (False: it has left)."""
        queue = self._queues.get(msg.from_ or "")
        if msg.status != "queued" or queue is None or msg not in queue:
            return False
        queue.remove(msg)
        self._queued_segments[msg.from_ or ""] -= msg.num_segments
        self._set(msg, "canceled")
        return True

    def _release(self, sid: str) -> None:
        msg = self._store.messages.get(sid)
        if msg is not None and msg.status == "scheduled":  # not canceled meanwhile
            self._set(msg, "accepted")
            self._assign(sid)

    def _assign(self, sid: str) -> None:
        msg = self._store.messages.get(sid)
        if msg is None or msg.status != "accepted":
            return
        open_ = [n for n in self._pool if self.room(n, msg.num_segments, msg.validity_s)]
        if not open_:
            self._store.counters["failed_30001"] += 1
            self._fail(msg, QUEUE_OVERFLOW)
            return
        msg.from_ = min(open_, key=self._queued_segments.__getitem__)
        self._set(msg, "queued")
        self._enqueue(msg.from_, msg)

    def _enqueue(self, sender: str, msg: Message) -> None:
        b = self._store.behaviour
        if b.mps <= 0 and sender not in b.stalled_senders:
            self._depart(msg)
            return
        self._queues[sender].append(msg)
        self._queued_segments[sender] += msg.num_segments
        if msg.validity_s:  # counted from entering the queue (a scheduled one: at SendAt)
            self._expiry.at(asyncio.get_running_loop().time() + msg.validity_s, msg.sid)
        if sender not in self._drains:
            self._drains[sender] = asyncio.create_task(self._drain(sender))

    async def _drain(self, sender: str) -> None:
        """Send the queue head at the sender's segment rate (GCRA: lateness is not lost)."""
        loop, queue = asyncio.get_running_loop(), self._queues[sender]
        try:
            next_at = max(self._next_at.get(sender, 0.0), loop.time())
            while queue:
                msg, now = queue[0], loop.time()
                if sender in self._store.behaviour.stalled_senders:
                    await asyncio.sleep(0.05)  # stuck route: hold everything until un-stalled
                    next_at = max(next_at, loop.time())
                    continue
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                    continue
                self._dequeue(sender)
                self._depart(msg)
                rate = self._store.behaviour.mps  # 0 (changed at runtime): no pacing
                next_at += msg.num_segments / rate if rate > 0 else 0.0
                self._next_at[sender] = next_at
        finally:
            self._drains.pop(sender, None)

    def _expire(self, sid: str) -> None:
        """Past its ValidityPeriod and still waiting in its sender's queue: failed, not sent."""
        msg = self._store.messages.get(sid)
        queue = self._queues.get(msg.from_ or "") if msg else None
        if msg is None or msg.status != "queued" or queue is None or msg not in queue:
            return  # it left the queue in time (or was withdrawn, or the sandbox reset)
        queue.remove(msg)
        self._queued_segments[msg.from_ or ""] -= msg.num_segments
        self._store.counters["expired_validity"] += 1
        self._fail(msg, VALIDITY_EXPIRED)

    def _dequeue(self, sender: str) -> None:
        msg = self._queues[sender].popleft()
        self._queued_segments[sender] -= msg.num_segments

    def _depart(self, msg: Message) -> None:
        """The message leaves the queue (the carrier clock, `date_sent`): sending, then sent."""
        assert msg.from_
        loop = asyncio.get_running_loop()
        self._set(msg, "sending")
        msg.sent = msg.updated
        self._store.sent_at[msg.from_].append((loop.time(), msg.num_segments))
        self._sent_timers.at(loop.time() + self._store.behaviour.handover_ms / 1000, msg.sid)

    def _handed_over(self, sid: str) -> None:
        if msg := self._store.messages.get(sid):
            self._set(msg, "sent")
            delay = self._store.behaviour.callback_delay_ms / 1000
            self._handset_timers.at(asyncio.get_running_loop().time() + delay, sid)

    def _handset(self, sid: str) -> None:
        msg = self._store.messages.get(sid)
        if msg is None:
            return
        code = self._store.behaviour.failing_numbers.get(msg.to)
        if code:
            msg.error_code = code
        self._set(msg, "undelivered" if code else "delivered")

    def _fail(self, msg: Message, code: int) -> None:
        msg.error_code = code
        self._set(msg, "failed")

    def _set(self, msg: Message, status: str) -> None:
        msg.status, msg.updated = status, datetime.now(UTC)
        if msg.status_callback and status in self._store.behaviour.callback_statuses:
            self._callbacks.put_nowait((msg.status_callback, self._params(msg)))

    def _params(self, msg: Message) -> dict[str, str]:
        params = {
            "AccountSid": self._account,
            "ApiVersion": API_VERSION,
            "MessageSid": msg.sid,
            "MessageStatus": msg.status,
            "SmsSid": msg.sid,
            "SmsStatus": msg.status,
            "To": msg.to,
        }
        if msg.from_:
            params["From"] = msg.from_
        if msg.messaging_service_sid:
            params["MessagingServiceSid"] = msg.messaging_service_sid
        if msg.error_code:
            params["ErrorCode"] = str(msg.error_code)
        return params

    async def _work(self) -> None:
        while True:
            url, params = await self._callbacks.get()
            with contextlib.suppress(Exception):  # one bad callback must not stop the worker
                ok = await self._post(url, params)
                self._store.counters["callbacks_ok" if ok else "callbacks_failed"] += 1

    async def _post(self, url: str, params: dict[str, str]) -> httpx.Response | None:
        signature = self._validator.compute_signature(url, params)
        try:
            response = await self._http.post(
                url, data=params, headers={"X-Twilio-Signature": signature}
            )
        except httpx.HTTPError as exc:
            log.warning("webhook unreachable", url=url, error=str(exc))
            return None
        return response if response.status_code < 400 else None

    async def reply(self, *, number: str, body: str, to: str) -> list[str] | None:
        """Deliver a phone's reply to the inbound webhook; return TwiML answers (None: refused)."""
        sid = "SM" + secrets.token_hex(16)
        self._store.note_reply(number=number, body=body, sid=sid)
        params = {
            "AccountSid": self._account,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": number,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        response = await self._post(self._store.behaviour.inbound_url, params)
        if response is None:
            self._store.counters["inbound_failed"] += 1
            return None
        answers = [unescape(m).strip() for m in _TWIML_MESSAGE.findall(response.text)]
        for text in answers:  # a TwiML <Message> is a real SMS back to the phone
            msg = self._store.add(
                account_sid=self._account,
                to=number,
                from_=to,
                body=text,
                service_sid=None,
                callback=None,
            )
            self._depart(msg)
        return answers
