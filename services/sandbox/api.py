"""Twilio's Messages REST API (2010-04-01) as the twilio library calls it."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from baiying_sandbox.carrier import Carrier
from baiying_sandbox.checks import TwilioError, check_credentials
from baiying_sandbox.create import create, error_body
from baiying_sandbox.store import API_VERSION, FINAL, Message, Store

router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}")

__all__ = ["API_VERSION", "TwilioError", "router", "twilio_error"]


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    """Twilio's error body: the library turns it into TwilioRestException(code, msg)."""
    return JSONResponse(error_body(status, code, message), status_code=status)


async def authenticate(request: Request, account_sid: str) -> None:
    check_credentials(request, account_sid)


Authenticated = Annotated[None, Depends(authenticate)]


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


def _carrier(request: Request) -> Carrier:
    return cast(Carrier, request.app.state.carrier)


@router.post("/Messages.json", status_code=201)
async def create_message(request: Request, account_sid: str) -> Any:
    """Accept (or refuse, as Twilio would or as configured) one outbound SMS.

    Reached for a create that is not url-encoded (multipart): `create.SandboxApp` answers
    the url-encoded ones, which is what the twilio library sends, before this router."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    auth = request.headers.get("authorization", "")
    payload = await create(
        request.app.state, account_sid=account_sid, authorization=auth, form=form
    )
    return JSONResponse(payload, status_code=201)


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
