"""Twilio webhooks: delivery status callbacks and inbound replies, signed and deduplicated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator

from baiying_notifier import optouts, replies, seen, store
from baiying_notifier.campaigns import inbound as campaign_inbound
from baiying_notifier.campaigns.keywords import parse as campaign_parse
from baiying_notifier.config import NotifierSettings
from baiying_notifier.domain import keywords
from baiying_shared.db.pool import GroupCommit
from baiying_shared.deps import PgConn
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
    callback = Callback(request.query_params.get("d"), sid, status, code)
    await status_batch(request.app).submit(callback)
    return Response(status_code=204)


@dataclass(frozen=True)
class Callback:
    """One verified status callback, as the status batch runs it."""

    delivery_id: str | None
    sid: str
    status: str
    code: int | None


# During an advisory the carrier calls back ~1,000 times a second: one transaction each held
# most of the pool, and a volunteer's reply or a call-out's intake waited for a connection.
# Group-committed on at most this many connections, answered (204) only after the commit.
STATUS_BATCHES_IN_FLIGHT = 2


async def _apply_callback(conn: PgConn, c: Callback) -> bool:
    return await store.apply_callback_in(
        conn, delivery_id=c.delivery_id, sid=c.sid, status=c.status, code=c.code
    )


def status_batch(app: Any) -> GroupCommit[Callback, bool]:
    """The app's one group commit for status callbacks (made on first use); rows in id order,
    as the sender's claims lock them (a callback named only by its sid sorts by that)."""
    batch = getattr(app.state, "status_batch", None)
    if batch is None:
        batch = app.state.status_batch = GroupCommit(
            app.state.runtime.pool, _apply_callback, order=lambda c: c.delivery_id or c.sid,
            in_flight=STATUS_BATCHES_IN_FLIGHT)  # fmt: skip
    return batch


@dataclass(frozen=True)
class Inbound:
    """One verified inbound SMS, as the reply batch runs it."""

    sid: str
    phone: str
    body: str
    default_language: Language


# Batches of inbound SMS committing at once, each on its own connection (of db_pool_max 10):
# a batch's plain answers cost a few set-based statements (act_many), but its other texts
# (opt-outs, campaign words, help) still go one after another, so a few run side by side.
REPLY_BATCHES_IN_FLIGHT = 4


def reply_batch(app: Any) -> GroupCommit[Inbound, tuple[str, ...]]:
    """The app's one group commit for inbound SMS (made on first use)."""
    batch = getattr(app.state, "reply_batch", None)
    if batch is None:
        batch = app.state.reply_batch = GroupCommit(
            app.state.runtime.pool, act, order=lambda m: (m.phone, m.sid),
            in_flight=REPLY_BATCHES_IN_FLIGHT, work_many=act_many)
    return batch


@router.post("/inbound")
async def inbound(request: Request, form: SignedForm) -> Response:
    """A volunteer's SMS: keyword -> reply / opt-out event, answered with TwiML.

    Answered only once the transaction that acted on it has committed (Twilio retries any
    other answer): replies arriving together share one transaction (shared/db/pool.py).
    """
    settings: NotifierSettings = request.app.state.settings
    message = Inbound(sid=str(form.get("MessageSid", "")), phone=str(form.get("From", "")),
                      body=str(form.get("Body", "")), default_language=settings.default_language)
    return twiml(*await reply_batch(request.app).submit(message))


async def act(conn: PgConn, m: Inbound) -> tuple[str, ...]:
    """Act on one inbound SMS inside the caller's transaction; the messages to answer with."""
    if not await seen.first_time(conn, f"inbound:{m.sid}"):
        return ()  # a replay: already acted on and answered
    return await _act_fresh(conn, m)


def _plain_reply(m: Inbound) -> keywords.Reply | None:
    """The reply, when it is a volunteer's answer to a call-out whatever the opt state."""
    parsed = keywords.parse(m.body)
    if (campaign_parse(m.body) is not None or parsed.intent in ("opt_out", "opt_in", "help")
            or keywords.parse(m.body, opted_out=True) != parsed):
        return None
    return parsed


async def act_many(conn: PgConn, ms: list[Inbound]) -> list[tuple[str, ...]]:
    """act() for each SMS, in order, in a few statements for the whole batch: the replay
    guard, the call-outs answered and their events; any other text goes act()'s way."""
    fresh = await seen.first_time_many(conn, [f"inbound:{m.sid}" for m in ms])
    out: list[tuple[str, ...] | None] = [None] * len(ms)
    plain: list[tuple[int, Inbound, keywords.Reply]] = []
    for i, m in enumerate(ms):
        if f"inbound:{m.sid}" not in fresh:
            out[i] = ()  # a replay (or a second copy in this batch): acted on once
        elif (parsed := _plain_reply(m)) is not None:
            plain.append((i, m, parsed))
        fresh.discard(f"inbound:{m.sid}")
    targets = await replies.targets_for_phones(
        conn, [(m.phone, p.intent, p.code) for _, m, p in plain])
    await replies.record_many(conn, [(t, p.intent, m.body) for (_, m, p), t in
                                     zip(plain, targets, strict=True) if t is not None])
    latest = await replies.latest_for_phones(
        conn, sorted({m.phone for (_, m, _), t in zip(plain, targets, strict=True) if t is None}))
    for (i, m, p), t in zip(plain, targets, strict=True):
        if t is not None:
            out[i] = (phrase(t["language"], p.intent, code=t["code"]),)
        else:  # nothing to answer (stood down, say): act()'s "none", in the phone's language
            last = latest.get(m.phone)
            out[i] = (phrase(last["language"] if last else m.default_language, "none"),)
    for i, m in enumerate(ms):
        if out[i] is None:  # fresh, and not a plain answer: the one-by-one path
            out[i] = await _act_fresh(conn, m)
    return [o or () for o in out]


async def _act_fresh(conn: PgConn, m: Inbound) -> tuple[str, ...]:
    """act() for an SMS whose replay guard is already set in this transaction."""
    # 订阅/退订/删除/收到 of residents and campaign recipients; None: a volunteer's reply.
    if (answer := await campaign_inbound.answer(conn, phone=m.phone, body=m.body)) is not None:
        return (answer,)
    parsed = keywords.parse(m.body)
    if keywords.parse(m.body, opted_out=True) != parsed:  # the opt state changes the meaning
        parsed = keywords.parse(m.body, opted_out=await optouts.is_opted_out(conn, m.phone))
    if parsed.intent not in ("opt_out", "opt_in", "help"):
        target = await replies.target_for_phone(
            conn, phone=m.phone, action=parsed.intent, code=parsed.code)
        if target is not None:
            await replies.record(conn, callout=target, action=parsed.intent, channel="sms",
                                 text=m.body)
            return (phrase(target["language"], parsed.intent, code=target["code"]),)
    latest = await replies.latest_for_phone(conn, m.phone)
    lang: Language = latest["language"] if latest else m.default_language
    if parsed.intent in ("opt_out", "opt_in"):
        await optouts.change(conn, phone=m.phone, volunteer_id=latest and latest["volunteer_id"],
                             opted_out=parsed.intent == "opt_out", keyword=m.body.strip()[:20])
        return (phrase(lang, parsed.intent),)
    if parsed.intent == "help":
        return (phrase(lang, "help", code=latest["code"] if latest else "K7Q2"),)
    return (phrase(lang, "none"),)
