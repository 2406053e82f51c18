"""The live stream's HTTP face: a short ticket for EventSource, then the server-sent events.

A browser's EventSource cannot send the Authorization header, so the page first trades its
access token for a ticket (baiying_shared.stream_tickets) and opens the stream with that in the
URL; no access token is ever put in a URL. Other clients may open the stream with the header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from baiying_dispatcher.stream import ChangeHub, sse
from baiying_shared import stream_tickets
from baiying_shared.auth import Principal, StaffPrincipal, until_revoked
from baiying_shared.stream_tickets import StreamPrincipal

router = APIRouter(prefix="/v1", tags=["dispatcher"])


def _hub(request: Request) -> ChangeHub:
    return request.app.state.hub  # type: ignore[no-any-return]


Hub = Annotated[ChangeHub, Depends(_hub)]


class TicketOut(BaseModel):
    ticket: str
    expires_in: int  # seconds: open the stream before then


@router.post("/stream/tickets")
async def ticket(request: Request, principal: StaffPrincipal) -> TicketOut:
    """A ticket for GET /v1/stream?ticket=…, good for a few seconds and for nothing else."""
    minted = stream_tickets.mint(request.app.state.settings, principal)
    return TicketOut(ticket=minted, expires_in=stream_tickets.TTL_S)


def _desk_of(principal: Principal) -> list[str] | None:
    """The districts whose desk the caller is (None: all); supervisors are no desk."""
    return principal.district_filter() if principal.role == "duty_desk" else []


@router.get("/stream")
async def stream(request: Request, principal: StreamPrincipal, hub: Hub) -> StreamingResponse:
    """Server-sent events of incident and call-out changes in the caller's districts."""

    async def events() -> object:
        with hub.subscribe(principal.district_filter(), _desk_of(principal)) as sub:
            # A revoked session's stream ends at once (docs/auth.md).
            async for chunk in until_revoked(request.app.state, principal, sse(sub)):
                yield chunk

    return StreamingResponse(
        events(),  # type: ignore[arg-type]
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
