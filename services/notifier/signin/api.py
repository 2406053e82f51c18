"""Routes: /v1/app/signin/* for volunteers' phones, /v1/app/devices for their sessions."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from baiying_notifier.signin import domain, service, store
from baiying_shared.auth import AdminPrincipal, VolunteerPrincipal, revocations

router = APIRouter(prefix="/v1/app", tags=["signin"])
Phone = Annotated[str, Field(pattern=r"^\+\d{8,15}$", description="E.164, e.g. +8613900000001")]


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone


class CodeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone
    code: str = Field(pattern=r"^\d{6}$")
    device: str = Field(default="手机", max_length=80)


def _signin(request: Request) -> service.SignIn:
    found: service.SignIn | None = getattr(request.app.state, "signin", None)
    if found is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "sign-in is starting")
    return found


SignInDep = Annotated[service.SignIn, Depends(_signin)]


@router.post("/signin/code", status_code=status.HTTP_202_ACCEPTED)
async def ask_for_code(
    request: Request, body: CodeRequest, signin: SignInDep, background: BackgroundTasks
) -> dict[str, str]:
    """Always the same answer, known number or not (no roster probing)."""
    address = request.client.host if request.client else "unknown"
    sms = await service.request_code(signin, phone=body.phone, address=address)
    if sms is not None:  # sent after the response, so its latency cannot tell known numbers
        background.add_task(service.send_code, signin, sms)
    return {"detail": domain.START_ANSWER}


@router.post("/signin/verify")
async def verify(body: CodeAnswer, signin: SignInDep) -> dict[str, str]:
    """A device session for the right code; one 401 for every wrong case."""
    result = await service.verify_code(signin, phone=body.phone, code=body.code, label=body.device)
    if result is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "code wrong or expired; ask for a new one"
        )
    token, device_id = result
    return {"access_token": token, "device_id": str(device_id)}


@router.get("/devices")
async def my_devices(principal: VolunteerPrincipal, signin: SignInDep) -> list[dict[str, Any]]:
    """The volunteer's signed-in devices."""
    if principal.volunteer_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a volunteer session is required")
    async with signin.pool.acquire() as conn:
        rows = await store.devices_of(conn, principal.volunteer_id)
    return [
        {
            **r,
            "device_id": str(r["device_id"]),
            "created_at": r["created_at"].isoformat(),
            "current": str(r["device_id"]) == principal.session_id,
        }
        for r in rows
    ]


async def _revoke(
    request: Request,
    signin: service.SignIn,
    device_id: uuid.UUID,
    *,
    by: str,
    owner: uuid.UUID | None,
) -> None:
    volunteer_id = await service.revoke_device(signin, device_id=device_id, by=by, owner=owner)
    if volunteer_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live device {device_id}")
    # Applied here at once; the other processes follow the event.
    revocations(request.app.state).revoke(
        sub=f"volunteer:{volunteer_id}", session_id=str(device_id), at=time.time()
    )


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_mine(
    request: Request, device_id: uuid.UUID, principal: VolunteerPrincipal, signin: SignInDep
) -> None:
    """A volunteer signs one of their devices out."""
    await _revoke(request, signin, device_id, by=principal.sub, owner=principal.volunteer_id)


@router.delete("/admin/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_any(
    request: Request, device_id: uuid.UUID, principal: AdminPrincipal, signin: SignInDep
) -> None:
    """An admin signs any volunteer device out."""
    await _revoke(request, signin, device_id, by=principal.sub, owner=None)
