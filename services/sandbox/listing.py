"""Listing messages as Twilio pages them: newest first, with cursor page tokens.

A PageToken names the last message of the previous page ("PA" + its SID), so messages
created mid-walk land before the cursor and a walk never shows an item twice.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from baiying_sandbox.api import Authenticated, TwilioError
from baiying_sandbox.store import API_VERSION, Message, Store

PAGING = ("Page", "PageToken", "PageSize")
router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}")


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


def _after(store: Store, token: str | None) -> int | None:
    """The cursor's message sequence number (None: from the newest)."""
    if token is None:
        return None
    msg = store.messages.get(token.removeprefix("PA"))
    if not token.startswith("PA") or msg is None:
        raise TwilioError(400, 20001, f"Invalid PageToken: {token}")
    return msg.seq


@router.get("/Messages.json")
async def list_messages(request: Request, account_sid: str, _: Authenticated) -> Any:
    """Newest first, paged like Twilio: PageSize, Page and an opaque cursor PageToken."""
    q = dict(request.query_params)
    store = cast(Store, request.app.state.store)
    pool = store.received(q["To"]) if q.get("To") else list(store.messages.values())
    cursor = _after(store, q.get("PageToken"))
    found = [m for m in reversed(pool) if (cursor is None or m.seq < cursor) and _matches(m, q)]
    try:
        size, page = max(1, min(int(q.get("PageSize", 50)), 1000)), int(q.get("Page", 0))
    except ValueError as exc:
        raise TwilioError(400, 20001, "PageSize and Page must be integers") from exc
    chunk = found[:size]
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    keep = {k: v for k, v in q.items() if k not in PAGING}

    def uri(p: int, token: str | None) -> str:
        extra = {"PageToken": token} if token else {}
        return f"{base}?{urlencode({**keep, 'PageSize': size, 'Page': p, **extra})}"

    has_next = len(found) > size
    return {
        "messages": [m.to_json() for m in chunk],
        "page": page,
        "page_size": size,
        "start": page * size,
        "end": page * size + max(len(chunk) - 1, 0),
        "uri": uri(page, q.get("PageToken")),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(page + 1, "PA" + chunk[-1].sid) if has_next else None,
        "previous_page_uri": None,
    }
