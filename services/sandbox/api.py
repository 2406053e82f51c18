"""Twilio's Messages REST API (2010-04-01) as the twilio library calls it."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from baiying_sandbox.carrier import Carrier
from baiying_sandbox.checks import CreateForm, TwilioError, check_credentials, parse_create
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.store import API_VERSION, FINAL, SYNC_ERRORS, Message, Store, segments

router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}")

__all__ = ["API_VERSION", "TwilioError", "router", "twilio_error"]


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


async def authenticate(request: Request, account_sid: str) -> None:
    check_credentials(request, account_sid)


Authenticated = Annotated[None, Depends(authenticate)]


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


def _carrier(request: Request) -> Carrier:
    return cast(Carrier, request.app.state.carrier)


class _Concurrency:
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


def _concurrency(request: Request) -> _Concurrency:
    state = request.app.state
    if not hasattr(state, "concurrency"):
        state.concurrency = _Concurrency(_store(request))
    return cast(_Concurrency, state.concurrency)


@router.post("/Messages.json", status_code=201)
async def create_message(request: Request, account_sid: str, _: Authenticated) -> Any:
    """Accept (or refuse, as Twilio would or as configured) one outbound SMS."""
    store, settings = _store(request), cast(SandboxSettings, request.app.state.settings)
    with _concurrency(request):
        form = {k: str(v) for k, v in (await request.form()).items()}
        if store.behaviour.latency_ms:
            await asyncio.sleep(store.behaviour.latency_ms / 1000)
        parsed = parse_create(form, settings, store.behaviour.schedule_min_lead_s)
        _refuse_as_configured(store, parsed)
        msg = _accept(request, account_sid, parsed)
    return JSONResponse(msg, status_code=201)


def _refuse_as_configured(store: Store, form: CreateForm) -> None:
    b = store.behaviour
    if b.error_rate and store.rng.random() < b.error_rate:
        store.counters["errors_5xx"] += 1
        raise TwilioError(500, 20500, "Internal Server Error")
    code = 21610 if form.to in store.opted_out else b.failing_numbers.get(form.to)
    if code in SYNC_ERRORS:
        store.counters["rejected_permanent"] += 1
        raise TwilioError(400, code, SYNC_ERRORS[code].format(to=form.to))


def _accept(request: Request, account_sid: str, form: CreateForm) -> dict[str, Any]:
    """Record the message and hand it to the carrier; the answer is its state right now."""
    store, carrier = _store(request), _carrier(request)
    if form.sender and not carrier.room(form.sender, segments(form.body), form.validity_s):
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


def _message(request: Request, sid: str) -> Message:
    msg = _store(request).messages.get(sid)
    if msg is None:
        raise TwilioError(
            404, 20404, f"The requested resource /{API_VERSION}/Messages/{sid}.json was not found"
        )
    return msg


@router.get("/Messages/{sid}.json")
async def fetch_message(request: Request, sid: str, _: Authenticated) -> Any:
    return _message(request, sid).to_json()


@router.post("/Messages/{sid}.json")
async def update_message(request: Request, sid: str, _: Authenticated) -> Any:
    """Cancel a scheduled message (Status=canceled) or redact a finished one (Body=)."""
    msg, form = _message(request, sid), await request.form()
    status, body = form.get("Status"), form.get("Body")
    if status is not None:
        if status != "canceled":
            raise TwilioError(400, 21220, f"Invalid parameter Status: {status}")
        carrier = _carrier(request)
        if msg.status == "scheduled":
            carrier.canceled(msg)
        elif not (_store(request).behaviour.cancel_queued and carrier.withdraw(msg)):
            _store(request).counters["cancel_refused"] += 1
            raise TwilioError(
                400, 30409, f"Message {sid} is {msg.status}; only a scheduled one can be canceled"
            )
    if body is not None:
        if body != "" or msg.status not in FINAL:
            raise TwilioError(400, 20009, "Only an empty Body redacts, and only a finished message")
        msg.body = ""
    return msg.to_json()


@router.delete("/Messages/{sid}.json", status_code=204)
async def delete_message(request: Request, sid: str, _: Authenticated) -> Response:
    msg = _message(request, sid)
    if msg.status not in FINAL:
        raise TwilioError(400, 20009, f"Message {sid} is {msg.status}; it cannot be deleted yet")
    _store(request).messages.pop(sid)
    return Response(status_code=204)


@router.get("/Messages/{sid}/Media.json")
async def list_media(request: Request, account_sid: str, sid: str, _: Authenticated) -> Any:
    """SMS only: every message has an empty media list."""
    _message(request, sid)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json?PageSize=50&Page=0"
    return {
        "media_list": [],
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": 0,
        "uri": uri,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
    }
