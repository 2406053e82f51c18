"""Twilio webhooks: delivery status callbacks and inbound replies, signed and deduplicated."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator

from baiying_notifier import optouts, replies, seen, store
from baiying_notifier.campaigns import inbound as campaign_inbound
from baiying_notifier.config import NotifierSettings
from baiying_notifier.domain import keywords
from baiying_shared.errors import Forbidden, TooLarge
from baiying_shared.events.deliveries import STATUS_RANK
from baiying_shared.logging import get_logger
from baiying_shared.sms.templates import Language, phrase

log = get_logger(__name__)
router = APIRouter(prefix="/v1/webhooks/twilio", tags=["webhooks"])


# Twilio's webhook forms are a few KB (an SMS body is at most 1,600 characters). Anything far
# larger is refused before it is parsed, signed or not: parsing comes before the signature check.
MAX_WEBHOOK_BYTES = 64 * 1024


async def _bounded_body(request: Request) -> None:
    """Read the body, or 413 as soon as it exceeds MAX_WEBHOOK_BYTES."""
    declared = request.headers.get("content-length", "")
    too_large = TooLarge(f"webhook body too large (limit {MAX_WEBHOOK_BYTES:,} bytes)")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise too_large
        chunks.append(chunk)
    request._body = b"".join(chunks)  # what Request.body() caches; request.form() reads it


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


async def _form(request: Request) -> FormData:
    """Twilio posts url-encoded forms: parsed by the standard library, which costs a fraction
    of starlette's multipart-capable parser per request; anything else goes through that."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(
            request._body.decode("latin-1"), keep_blank_values=True, encoding="utf-8"))
        return FormData(pairs)
    return await request.form()


async def signed_form(request: Request) -> FormData:
    """The form, if X-Twilio-Signature matches public_url + path (+ query); else 403."""
    settings: NotifierSettings = request.app.state.settings
    await _bounded_body(request)
    form = await _form(request)
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature", "")
    validator = _validator(settings.twilio_auth_token.get_secret_value())
    if not signature or not validator.validate(url, form, signature):
        log.warning("webhook signature rejected", path=request.url.path)
        raise Forbidden("invalid Twilio signature")
    return form


SignedForm = Annotated[FormData, Depends(signed_form)]


def twiml(*messages: str) -> Response:
    body = "".join(f"<Message>{escape(m)}</Message>" for m in messages)
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        media_type="application/xml",
    )


@router.post("/status")
async def status_callback(request: Request, form: SignedForm) -> Response:
    """Provider progress for one message -> DeliveryStatusChanged (each status once)."""
    sid, status = str(form.get("MessageSid", "")), str(form.get("MessageStatus", ""))
    code = int(str(form["ErrorCode"])) if str(form.get("ErrorCode") or "").isdigit() else None
    if status not in STATUS_RANK:
        return Response(status_code=204)  # accepted/sending/scheduled: nothing to report
    await store.apply_callback(request.app.state.runtime.pool, sid=sid, status=status, code=code,
                               delivery_id=request.query_params.get("d"))
    return Response(status_code=204)


@router.post("/inbound")
async def inbound(request: Request, form: SignedForm) -> Response:
    """A volunteer's SMS: keyword -> reply / opt-out event, answered with TwiML."""
    sid, phone = str(form.get("MessageSid", "")), str(form.get("From", ""))
    body = str(form.get("Body", ""))
    settings: NotifierSettings = request.app.state.settings
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        if not await seen.first_time(conn, f"inbound:{sid}"):
            return twiml()  # a replay: already acted on and answered
        # 订阅/退订/删除/收到 of residents and campaign recipients; None: a volunteer's reply.
        if (answer := await campaign_inbound.answer(conn, phone=phone, body=body)) is not None:
            return twiml(answer)
        parsed = keywords.parse(body, opted_out=await optouts.is_opted_out(conn, phone))
        latest = await replies.latest_for_phone(conn, phone)
        lang: Language = latest["language"] if latest else settings.default_language
        vid = latest["volunteer_id"] if latest else None
        if parsed.intent in ("opt_out", "opt_in"):
            await optouts.change(
                conn,
                phone=phone,
                volunteer_id=vid,
                opted_out=parsed.intent == "opt_out",
                keyword=body.strip()[:20],
            )
            return twiml(phrase(lang, parsed.intent))
        if parsed.intent == "help":
            return twiml(phrase(lang, "help", code=latest["code"] if latest else "K7Q2"))
        target = await replies.target_for_phone(
            conn, phone=phone, action=parsed.intent, code=parsed.code
        )
        if target is None:
            return twiml(phrase(lang, "none"))
        await replies.record(conn, callout=target, action=parsed.intent, channel="sms", text=body)
        return twiml(phrase(target["language"], parsed.intent, code=target["code"]))
