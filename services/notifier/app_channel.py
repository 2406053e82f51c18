"""The volunteer app: a page, live alerts over a WebSocket, and answers that become replies.

Pushes travel through PostgreSQL NOTIFY from the transaction that queued them, so every
notifier instance hears them after commit and forwards to the sockets it holds. A volunteer
whose channels are SMS only gets no app deliveries (and so no pushes), yet a signed-in app must
still show their call-outs live: each socket re-reads the volunteer's call-outs every
RESYNC_S and sends a fresh snapshot when anything changed (a new alert, the address after
acceptance, a stand-down, an answer given by SMS).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from importlib import resources
from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError

from baiying_notifier import events, replies
from baiying_shared.auth import (
    Principal,
    VolunteerPrincipal,
    close_when_revoked,
    principal_from_token,
)
from baiying_shared.logging import get_logger

log = get_logger(__name__)
router = APIRouter(tags=["app"])
RESYNC_S = 2.0  # one indexed query per open socket per period (callouts_volunteer)


class AppReply(BaseModel):
    callout_id: uuid.UUID
    action: Literal["accept", "decline", "arrived"]


class AppHub:
    """Open sockets per volunteer; fed by NOTIFY notifier_app."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, volunteer_id: str, ws: WebSocket) -> None:
        self._sockets[volunteer_id].add(ws)

    def detach(self, volunteer_id: str, ws: WebSocket) -> None:
        self._sockets[volunteer_id].discard(ws)

    def on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        note = json.loads(payload)
        for ws in list(self._sockets.get(note["volunteer_id"], ())):
            task = asyncio.get_running_loop().create_task(self._send(ws, note["event"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, ws: WebSocket, event: dict[str, Any]) -> None:
        try:
            await ws.send_json(event)
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass  # the socket closed meanwhile; the app re-syncs from its snapshot


async def alerts_for(
    conn: asyncpg.Connection[Any], volunteer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The volunteer's call-outs of the last day (stood-down ones too, so the app can say so);
    the address only where they accepted."""
    rows = await conn.fetch(
        "SELECT alert, confirmed, state, issued_at FROM callouts WHERE volunteer_id = $1"
        " AND issued_at > now() - interval '1 day'"
        " ORDER BY issued_at DESC LIMIT 20",
        volunteer_id,
    )
    return [
        {
            **r["alert"],
            "state": r["state"],
            "issued_at": r["issued_at"].isoformat(),
            **({"confirmed": r["confirmed"]} if r["confirmed"] else {}),
        }
        for r in rows
    ]


async def answer(pool: asyncpg.Pool[Any], *, volunteer_id: uuid.UUID, reply: AppReply) -> bool:
    """Record an app answer as VolunteerReplied(channel app); False if not answerable."""
    async with pool.acquire() as conn, conn.transaction():
        target = await replies.target_for_volunteer(
            conn, volunteer_id=volunteer_id, callout_id=reply.callout_id, action=reply.action
        )
        if target is None:
            return False
        await replies.record(conn, callout=target, action=reply.action, channel="app", text=None)
        return True


async def acknowledge(
    pool: asyncpg.Pool[Any], *, volunteer_id: uuid.UUID, callout_id: uuid.UUID
) -> None:
    """The app displayed the alert: its app deliveries become 'delivered' (once)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "UPDATE deliveries SET status = 'delivered', updated_at = now() WHERE callout_id = $1"
            " AND volunteer_id = $2 AND channel = 'app' AND status = 'sent' RETURNING *",
            callout_id,
            volunteer_id,
        )
        for row in rows:
            await events.delivery_status(conn, row=row, status="delivered")


@router.get("/app", response_class=HTMLResponse, include_in_schema=False)
async def page() -> str:
    return resources.files("baiying_notifier").joinpath("static/app.html").read_text("utf-8")


@router.get("/v1/app/alerts")
async def list_alerts(request: Request, principal: VolunteerPrincipal) -> list[dict[str, Any]]:
    vid = _volunteer(principal)
    async with request.app.state.runtime.pool.acquire() as conn:
        return await alerts_for(conn, vid)


@router.post("/v1/app/replies", status_code=202)
async def post_reply(
    request: Request, reply: AppReply, principal: VolunteerPrincipal
) -> dict[str, str]:
    if not await answer(
        request.app.state.runtime.pool, volunteer_id=_volunteer(principal), reply=reply
    ):
        raise HTTPException(409, "this call-out cannot take that answer now")
    return {"status": "recorded"}


def _volunteer(principal: Principal) -> uuid.UUID:
    if principal.volunteer_id is None:
        raise HTTPException(403, "a volunteer token with volunteer_id is required")
    return principal.volunteer_id


@router.websocket("/v1/app/ws")
async def socket(ws: WebSocket) -> None:
    """Snapshot on connect, then live pushes; the app sends answers and display acks."""
    try:
        token = ws.query_params.get("access_token", "")
        principal = await principal_from_token(ws.app.state, token)
        vid = _volunteer(principal)
    except HTTPException:
        await ws.close(code=1008)
        return
    pool, hub = ws.app.state.runtime.pool, ws.app.state.hub
    await ws.accept()
    hub.attach(str(vid), ws)
    resync = asyncio.create_task(_resync(ws, pool, vid))
    # A revoked device or session loses its socket at once (docs/auth.md).
    revoked = asyncio.create_task(
        close_when_revoked(ws.app.state, principal, lambda: ws.close(code=4401))
    )
    try:
        while True:
            await _handle(ws, pool, vid, await ws.receive_json())
    except WebSocketDisconnect:
        pass
    finally:
        resync.cancel()
        revoked.cancel()
        hub.detach(str(vid), ws)


async def _resync(ws: WebSocket, pool: asyncpg.Pool[Any], vid: uuid.UUID) -> None:
    """The first snapshot, then another whenever the volunteer's call-outs changed."""
    last: list[dict[str, Any]] | None = None
    try:
        while True:
            async with pool.acquire() as conn:
                now = await alerts_for(conn, vid)
            if now != last:
                await ws.send_json({"type": "snapshot", "alerts": now})
                last = now
            await asyncio.sleep(RESYNC_S)  # a period, not a wait for a condition
    except (RuntimeError, WebSocketDisconnect, OSError):
        pass  # the socket closed; the receive loop ends the connection


async def _handle(ws: WebSocket, pool: asyncpg.Pool[Any], vid: uuid.UUID, msg: Any) -> None:
    kind = msg.get("type") if isinstance(msg, dict) else None
    try:
        if kind == "reply":
            reply = AppReply.model_validate(msg)
            ok = await answer(pool, volunteer_id=vid, reply=reply)
            await ws.send_json(
                {
                    "type": "reply_ok" if ok else "reply_rejected",
                    "callout_id": str(reply.callout_id),
                    "action": reply.action,
                }
            )
        elif kind == "ack":
            await acknowledge(pool, volunteer_id=vid, callout_id=uuid.UUID(str(msg["callout_id"])))
    except (ValidationError, ValueError, KeyError):
        await ws.send_json({"type": "error", "detail": "bad message"})
