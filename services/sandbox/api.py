"""Twilio's Messages REST API (2010-04-01) as the twilio library calls it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import operator
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from baiying_sandbox.carrier import Carrier
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.store import API_VERSION, SYNC_ERRORS, Message, Store

router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}")


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    """Twilio's error body: the library turns it into TwilioRestException(code, msg)."""
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def authenticate(request: Request, account_sid: str) -> None:
    """HTTP Basic with the account SID and auth token, as Twilio checks it."""
    settings: SandboxSettings = request.app.state.settings
    header = request.headers.get("authorization", "")
    try:
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    good = secrets.compare_digest(user, settings.account_sid) and secrets.compare_digest(
        password, settings.auth_token.get_secret_value()
    )
    if not header.startswith("Basic ") or not good or account_sid != settings.account_sid:
        raise TwilioError(401, 20003, "Authenticate")


Authenticated = Annotated[None, Depends(authenticate)]


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


@router.post("/Messages.json", status_code=201)
async def create_message(request: Request, account_sid: str, _: Authenticated) -> Any:
    """Accept (or refuse, as configured) one outbound SMS."""
    store, form = _store(request), await request.form()
    b = store.behaviour
    if b.latency_ms:
        await asyncio.sleep(b.latency_ms / 1000)
    to, body = str(form.get("To") or ""), str(form.get("Body") or "")
    service = form.get("MessagingServiceSid")
    settings: SandboxSettings = request.app.state.settings
    sender = str(form.get("From") or "") or (
        settings.service_numbers[hash(to) % len(settings.service_numbers)] if service else ""
    )
    if not to or not body or not sender:
        raise TwilioError(
            400, 21602 if not body else 21604, "A 'To', 'Body' and 'From' are required"
        )
    if not store.admit(str(service or sender)):
        store.counters["rejected_429"] += 1
        raise TwilioError(429, 20429, "Too Many Requests")
    if b.error_rate and store.rng.random() < b.error_rate:
        store.counters["errors_5xx"] += 1
        raise TwilioError(500, 20500, "Internal Server Error")
    code = 21610 if to in store.opted_out else b.failing_numbers.get(to)
    if code in SYNC_ERRORS:
        store.counters["rejected_permanent"] += 1
        raise TwilioError(400, code, SYNC_ERRORS[code].format(to=to))
    msg = store.add(
        account_sid=account_sid,
        to=to,
        from_=sender,
        body=body,
        service_sid=str(service) if service else None,
        callback=str(form.get("StatusCallback") or "") or None,
    )
    carrier: Carrier = request.app.state.carrier
    payload = msg.to_json()  # the answer says "queued" whatever happens next
    carrier.accepted(msg)
    return JSONResponse(payload, status_code=201)


@router.get("/Messages/{sid}.json")
async def fetch_message(request: Request, sid: str, _: Authenticated) -> Any:
    msg = _store(request).messages.get(sid)
    if msg is None:
        raise TwilioError(
            404, 20404, f"The requested resource /{API_VERSION}/Messages/{sid}.json was not found"
        )
    return msg.to_json()


def _parse_when(value: str) -> datetime:
    text = value.strip().rstrip("Z")
    parsed = (
        datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text + "T00:00:00")
    )
    return parsed.replace(tzinfo=parsed.tzinfo or UTC)


def _matches(msg: Message, q: dict[str, str]) -> bool:
    if (q.get("To") and msg.to != q["To"]) or (q.get("From") and msg.from_ != q["From"]):
        return False
    sent = msg.sent
    for key, test in (("DateSent>", operator.ge), ("DateSent<", operator.le)):
        if key in q and (sent is None or not test(sent, _parse_when(q[key]))):
            return False
    if "DateSent" in q:
        day = _parse_when(q["DateSent"]).date()
        return sent is not None and sent.date() == day
    return True


@router.get("/Messages.json")
async def list_messages(request: Request, account_sid: str, _: Authenticated) -> Any:
    """Newest first, paged like Twilio: PageSize, Page and an opaque PageToken."""
    q = dict(request.query_params)
    store = _store(request)
    pool = (
        [store.messages[s] for s in store.by_to.get(q["To"], [])]
        if q.get("To")
        else list(store.messages.values())
    )
    found = [m for m in reversed(pool) if _matches(m, q)]
    size = max(1, min(int(q.get("PageSize", 50)), 1000))
    page = int(q.get("Page", 0))
    start = (
        int(q.get("PageToken", "PA0").removeprefix("PA") or 0) if "PageToken" in q else page * size
    )
    chunk = found[start : start + size]
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    keep = {k: v for k, v in q.items() if k not in ("Page", "PageToken", "PageSize")}

    def uri(p: int, token: int | None) -> str:
        extra = {"PageToken": f"PA{token}"} if token is not None else {}
        return f"{base}?{urlencode({**keep, 'PageSize': size, 'Page': p, **extra})}"

    has_next = start + size < len(found)
    return {
        "messages": [m.to_json() for m in chunk],
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + max(len(chunk) - 1, 0),
        "uri": uri(page, start or None),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(page + 1, start + size) if has_next else None,
        "previous_page_uri": uri(page - 1, max(start - size, 0)) if page > 0 else None,
    }
