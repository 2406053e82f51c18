"""Test and fault-harness controls, and the simulated phones (API and page)."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from baiying_sandbox.carrier import Carrier
from baiying_sandbox.checks import check_credentials
from baiying_sandbox.config import Behaviour, SandboxSettings
from baiying_sandbox.store import Store

router = APIRouter()


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


async def _admin(request: Request) -> None:
    """Changing or wiping the carrier takes the sandbox account's credentials (or API key)."""
    check_credentials(request, None)


Admin = [Depends(_admin)]


@router.get("/v1/admin/behaviour")
async def get_behaviour(request: Request) -> Behaviour:
    return _store(request).behaviour


@router.patch("/v1/admin/behaviour", dependencies=Admin)
async def patch_behaviour(request: Request, change: dict[str, Any]) -> Behaviour:
    """Change any subset of the behaviour (MPS, latency, 5xx rate, failing numbers…)."""
    store = _store(request)
    merged = Behaviour.model_validate({**store.behaviour.model_dump(), **change})
    store.set_behaviour(merged)
    return merged


@router.post("/v1/admin/reset", status_code=204, dependencies=Admin)
async def reset(request: Request) -> None:
    _store(request).reset()
    cast(Carrier, request.app.state.carrier).reset()


@router.get("/v1/admin/sent")
async def sent(request: Request) -> dict[str, list[tuple[float, int]]]:
    """The carrier clock: per From number, (seconds, segments) of each message reaching sent."""
    return {k: list(v) for k, v in _store(request).sent_at.items()}


@router.get("/v1/admin/departures")
async def departures(
    request: Request, to: Annotated[list[str], Query()]
) -> dict[str, list[dict[str, str | None]]]:
    """Per number, when each message was created and when it left its sender's queue (ISO
    with microseconds; sent None while it waits): the carrier clock per recipient."""
    store = _store(request)
    return {
        n: [
            {"created": m.created.isoformat(), "sent": m.sent.isoformat() if m.sent else None}
            for m in store.received(n)
        ]
        for n in to
    }


@router.get("/v1/admin/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Counters, plus how many numbers got exactly one / more than one message."""
    store = _store(request)
    per_number = [len(v) for v in store.by_to.values()]
    return {
        **store.counters,
        "numbers": len(per_number),
        "numbers_with_duplicates": sum(1 for n in per_number if n > 1),
    }


@router.get("/v1/phones")
async def phones(request: Request) -> list[dict[str, Any]]:
    store = _store(request)
    return [
        {"number": n, "received": len(v), "opted_out": n in store.opted_out}
        for n, v in sorted(store.by_to.items())
    ]


@router.get("/v1/phones/{number}/messages")
async def phone_messages(request: Request, number: str) -> list[dict[str, Any]]:
    """Everything this phone received, oldest first."""
    return [m.to_json() for m in _store(request).received(number)]


@router.get("/v1/phones/{number}/conversation")
async def conversation(request: Request, number: str) -> list[dict[str, Any]]:
    return list(_store(request).conversations.get(number, []))


class Reply(BaseModel):
    body: str = Field(min_length=1, max_length=1600)
    to: str | None = None  # which sender it answers; default the last one that wrote


@router.post("/v1/phones/{number}/reply")
async def reply(request: Request, number: str, answer: Reply) -> dict[str, Any]:
    """Send a reply from a simulated phone to the notifier's inbound webhook."""
    settings: SandboxSettings = request.app.state.settings
    store, carrier = _store(request), request.app.state.carrier
    assert isinstance(carrier, Carrier)
    to = answer.to or store.last_sender_to(number) or settings.service_numbers[0]
    answers = await carrier.reply(number=number, body=answer.body, to=to)
    if answers is None:
        raise HTTPException(502, "the inbound webhook refused or did not answer")
    return {"to": to, "answers": answers}


@router.get("/phones", response_class=HTMLResponse)
async def phones_page() -> str:
    return resources.files("baiying_sandbox").joinpath("static/phones.html").read_text("utf-8")
