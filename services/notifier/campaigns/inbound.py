"""Texts to the service number that concern campaigns, looked at before the volunteer keywords.

`answer` returns the TwiML text to send back, or None to leave the text to the volunteer
path (webhooks.inbound) — which keeps today's behaviour for a volunteer's 退订/STOP, for the
carrier's STOP from anyone, and for 收到 while the phone has a call-out to accept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from baiying_notifier import replies
from baiying_notifier.campaigns import reach, subscribers
from baiying_notifier.campaigns.keywords import CARRIER_WORDS, Intent, Word, parse
from baiying_notifier.campaigns.texts import area, say
from baiying_shared.deps import PgConn

ACK_WINDOW = "7 days"  # a 收到 long after the last campaign SMS acknowledges nothing


async def answer(conn: PgConn, *, phone: str, body: str) -> str | None:
    """Act on a resident's (or a campaign recipient's) text; the answer, or None if not ours."""
    word = parse(body)
    if word is None:
        return None
    return await _HANDLERS[word.intent](conn, phone, body.strip()[:160], word)


async def _subscribe(conn: PgConn, phone: str, text: str, word: Word) -> str:
    lang = word.language
    if word.unknown_district is not None:
        return say(lang, "unknown_district", text=word.unknown_district[:20])
    confirmation = say(lang, "subscribed", area=area(lang, word.district))
    await subscribers.subscribe(conn, phone=phone, district=word.district, language=lang,
                                text=text, answer=confirmation)  # fmt: skip
    return confirmation


async def is_volunteer(conn: PgConn, phone: str) -> bool:
    """A registry volunteer's phone (snapshot topic), or one this notifier has called out."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM volunteers WHERE phone = $1)"
        " OR EXISTS (SELECT 1 FROM callouts WHERE phone = $1)", phone))  # fmt: skip


async def _unsubscribe(conn: PgConn, phone: str, text: str, word: Word) -> str | None:
    ended = await subscribers.end(conn, phone=phone, text=text)
    if ended is None or word.keyword in CARRIER_WORDS or await is_volunteer(conn, phone):
        return None  # the opt-out path records it and answers, as before
    return say(ended["language"], "unsubscribed")


async def _delete(conn: PgConn, phone: str, text: str, word: Word) -> str:
    removed = await subscribers.delete(conn, phone)
    if removed is None:
        return say(word.language, "nothing")
    return say(removed["language"], "deleted")


async def _acknowledge(conn: PgConn, phone: str, text: str, word: Word) -> str | None:
    if word.keyword == "收到" and await replies.target_for_phone(
        conn, phone=phone, action="accept", code=None
    ):
        return None  # 收到 accepts a live call-out first: a call-out outranks a campaign
    latest = await conn.fetchrow(
        "SELECT message_id, language FROM campaign_messages WHERE phone = $1"
        f" AND created_at > now() - interval '{ACK_WINDOW}' ORDER BY created_at DESC LIMIT 1",
        phone,
    )
    if latest is None:
        return None
    await reach.record(conn, message_ids=[latest["message_id"]], status="acknowledged")
    return say(latest["language"], "acknowledged")


_HANDLERS: dict[Intent, Callable[[PgConn, str, str, Word], Awaitable[str | None]]] = {
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "delete": _delete,
    "acknowledge": _acknowledge,
}
