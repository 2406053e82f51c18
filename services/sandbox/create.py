"""Create (POST …/Messages.json): the one hot path, answered ahead of FastAPI's stack.

Under a fan-out nearly every request is a create. FastAPI's routing and dependency solving,
python-multipart's form parser and the common access-log middleware (a trace id, a log line
and a histogram per request) cost more than the create itself, and none of it is work Twilio
does for its caller. So `SandboxApp` answers a url-encoded create (what the twilio library
sends) straight from the ASGI scope: the same checks in the same order (credentials, the
concurrent-request limit, the form, configured faults, the From queue's room) and the same
bodies. Any other request, and a create in another encoding, goes through FastAPI as before.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from baiying_sandbox.carrier import Carrier
from baiying_sandbox.checks import CreateForm, TwilioError, check_authorization, parse_create
from baiying_sandbox.store import API_VERSION, SYNC_ERRORS, Store, segments

CREATE_PATH = re.compile(rf"^/{API_VERSION}/Accounts/([^/]+)/Messages\.json$")
MAX_FORM_BYTES = 64 * 1024  # 1,600 characters of Chinese percent-encoded is ~15 KiB
_URLENCODED = b"application/x-www-form-urlencoded"


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's error body: the library turns it into TwilioRestException(code, msg)."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class Concurrency:
    """Creates in progress; above the limit Twilio answers 20429 (not for the rate)."""

    def __init__(self, store: Store) -> None:
        self._store, self.running = store, 0

    def __enter__(self) -> None:
        limit = self._store.behaviour.concurrency_limit
        if limit and self.running >= limit:
            self._store.counters["rejected_429"] += 1
            raise TwilioError(429, 20429, "Too Many Requests")
        self.running += 1

    def __exit__(self, *_: object) -> None:
        self.running -= 1


async def create(
    state: State, *, account_sid: str, authorization: str, form: dict[str, str]
) -> dict[str, Any]:
    """Accept one outbound SMS (its state right now), or raise the TwilioError Twilio would."""
    store: Store = state.store
    check_authorization(state.settings, authorization, account_sid)
    with state.concurrency:
        if store.behaviour.latency_ms:
            await asyncio.sleep(store.behaviour.latency_ms / 1000)
        parsed = parse_create(form, state.settings, store.behaviour.schedule_min_lead_s)
        _refuse_as_configured(store, parsed)
        return _accept(store, state.carrier, account_sid, parsed)


def _refuse_as_configured(store: Store, form: CreateForm) -> None:
    b = store.behaviour
    if b.error_rate and store.rng.random() < b.error_rate:
        store.counters["errors_5xx"] += 1
        raise TwilioError(500, 20500, "Internal Server Error")
    code = 21610 if form.to in store.opted_out else b.failing_numbers.get(form.to)
    if code in SYNC_ERRORS:
        store.counters["rejected_permanent"] += 1
        raise TwilioError(400, code, SYNC_ERRORS[code].format(to=form.to))


def _accept(store: Store, carrier: Carrier, account_sid: str, form: CreateForm) -> dict[str, Any]:
    """Record the message and hand it to the carrier; the answer is its state right now."""
    parts = segments(form.body)
    if form.sender and not carrier.room(form.sender, parts, form.validity_s):
        store.counters["rejected_21611"] += 1
        raise TwilioError(
            400, 21611, "This 'From' number has exceeded the maximum number of queued messages"
        )
    status = "scheduled" if form.send_at else "queued" if form.sender else "accepted"
    msg = store.add(
        account_sid=account_sid,
        to=form.to,
        from_=form.sender,
        body=form.body,
        service_sid=form.service,
        callback=form.callback,
        status=status,
        num_segments=parts,
    )
    msg.validity_s, msg.send_at = form.validity_s, form.send_at
    payload = msg.to_json()
    if form.send_at:
        carrier.scheduled(msg)
    elif form.sender:
        carrier.accepted(msg)
    else:
        carrier.accepted_for_service(msg)
    return payload


class _Gone(Exception):
    """The client disconnected before its request body arrived."""


async def _body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise TwilioError(413, 20001, "Request body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def answer(
    state: State, account_sid: str, headers: dict[bytes, bytes], receive: Receive, send: Send
) -> None:
    """One url-encoded create, answered on the raw ASGI channel."""
    try:
        text = (await _body(receive)).decode("utf-8", "replace")
        form = dict(parse_qsl(text, keep_blank_values=True))  # last value wins, as Starlette
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        payload = await create(
            state, account_sid=account_sid, authorization=authorization, form=form
        )
        status = 201
    except TwilioError as exc:
        status, payload = exc.status, error_body(exc.status, exc.code, exc.message)
    except _Gone:
        return
    raw = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = raw.encode()
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": data})


class SandboxApp(FastAPI):
    """FastAPI, with the url-encoded create answered before the middleware stack."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = CREATE_PATH.match(scope["path"])
            if match:
                headers = dict(scope["headers"])
                if headers.get(b"content-type", b"").startswith(_URLENCODED):
                    await answer(self.state, match.group(1), headers, receive, send)
                    return
        await super().__call__(scope, receive, send)
