"""What happens after a create: status progression, signed callbacks, and phone replies.

Callbacks are signed exactly as Twilio signs them: HMAC-SHA1 of the callback URL followed
by the sorted form parameters, keyed by the account's auth token (RequestValidator).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from datetime import UTC, datetime
from html import unescape

import httpx
from twilio.request_validator import RequestValidator

from baiying_sandbox.store import API_VERSION, Message, Store
from baiying_shared.logging import get_logger

log = get_logger(__name__)
_TWIML_MESSAGE = re.compile(r"<Message[^>]*>(.*?)</Message>", re.S)


class Carrier:
    """Moves accepted messages through queued → sent → delivered and reports each step."""

    def __init__(self, *, store: Store, account_sid: str, auth_token: str, workers: int) -> None:
        self._store = store
        self._account = account_sid
        self._validator = RequestValidator(auth_token)
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._http = httpx.AsyncClient(timeout=10)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    def accepted(self, msg: Message) -> None:
        """Schedule the message's progression (synchronous when nobody listens)."""
        b = self._store.behaviour
        if msg.status_callback and b.callback_statuses:
            self._queue.put_nowait(msg.sid)
        else:  # no callbacks wanted: settle at once, no task per message
            self._settle(msg)

    def _settle(self, msg: Message) -> None:
        code = self._store.behaviour.failing_numbers.get(msg.to)
        msg.sent = msg.updated = datetime.now(UTC)
        msg.status, msg.error_code = ("undelivered", code) if code else ("delivered", None)

    async def _work(self) -> None:
        while True:
            sid = await self._queue.get()
            with contextlib.suppress(Exception):  # one bad callback must not stop the worker
                await self._progress(self._store.messages[sid])

    async def _progress(self, msg: Message) -> None:
        b = self._store.behaviour
        code = b.failing_numbers.get(msg.to)
        final = "undelivered" if code else "delivered"
        for status in ("queued", "sent", final):
            if status != "queued":
                await asyncio.sleep(b.callback_delay_ms / 1000)
                msg.status, msg.updated = status, datetime.now(UTC)
                if status == "sent":
                    msg.sent = msg.updated
                if status == final and code:
                    msg.error_code = code
            if status in b.callback_statuses or (
                status == final and "delivered" in b.callback_statuses
            ):
                await self._callback(msg)

    async def _callback(self, msg: Message) -> None:
        assert msg.status_callback
        params = {
            "AccountSid": self._account,
            "ApiVersion": API_VERSION,
            "From": msg.from_,
            "MessageSid": msg.sid,
            "MessageStatus": msg.status,
            "SmsSid": msg.sid,
            "SmsStatus": msg.status,
            "To": msg.to,
        }
        if msg.messaging_service_sid:
            params["MessagingServiceSid"] = msg.messaging_service_sid
        if msg.error_code:
            params["ErrorCode"] = str(msg.error_code)
        ok = await self._post(msg.status_callback, params)
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
            self._settle(msg)
        return answers
