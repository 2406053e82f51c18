"""GET /c/{token}: the public page a campaign SMS links to. No login; no phone, no name.

The token opens exactly one message's case (its title and advice, in the recipient's
language) and records `opened` for that message, once. An unknown or garbled token gets
the same bilingual 404 page, so a guess learns nothing.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from baiying_notifier.campaigns import reach, tokens
from baiying_notifier.campaigns.texts import Language, say

router = APIRouter(tags=["campaigns"])

_HEADERS = {
    "Cache-Control": "no-store",  # a shared phone's browser cache should not keep it
    "Referrer-Policy": "no-referrer",  # the token must not leak to any other site
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_STYLE = (
    "body{font:18px/1.6 system-ui,sans-serif;max-width:36em;margin:0 auto;padding:1em;"
    "color:#111;background:#fff}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
    "header{color:#555;font-size:.9em}"
)


def _page(lang: Language, title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _not_found() -> HTMLResponse:
    body = "".join(
        f"<h1>{say(lang, 'not_found')}</h1><p>{say(lang, 'not_found_text')}</p>"
        for lang in ("zh", "en")
    )
    return _page("zh", say("zh", "not_found"), body, status=404)


# A page for people who tap a link in an SMS, not an API: like /app, kept out of the OpenAPI
# (whose rule is a JSON reason on every 4xx; this page's 404 is a readable HTML page).
@router.get("/c/{token}", response_class=HTMLResponse, include_in_schema=False)
async def case_page(token: str, request: Request) -> HTMLResponse:
    """The case page of the message this token was made for."""
    if not tokens.well_formed(token):
        return _not_found()
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT message_id, language, title, advice FROM campaign_messages"
            " WHERE token_hash = $1",
            tokens.digest(token),
        )
        if row is None:
            return _not_found()
        await reach.record(conn, message_ids=[row["message_id"]], status="opened")
    lang: Language = row["language"]
    body = (
        f"<header>{say(lang, 'page_title')}</header><h1>{escape(row['title'])}</h1>"
        f"<h2>{say(lang, 'advice')}</h2><p>{escape(row['advice'])}</p>"
    )
    return _page(lang, row["title"], body)
