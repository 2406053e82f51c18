"""The live stream opens with a short ticket, never with an access token in the URL (served
dispatcher, real broker for the sign-out)."""

from __future__ import annotations

import httpx

from baiying_shared import stream_tickets
from baiying_shared.auth import Principal, mint_token
from baiying_shared.settings import CommonSettings
from tests.dispatcher.conftest import System
from tests.support import eventually

DESK = "360702"


async def _opens(c: httpx.AsyncClient, **params: str) -> tuple[int, str]:
    """The stream's status (and the refusal's text), closing it at once when it opens."""
    async with c.stream("GET", "/v1/stream", params=params) as r:
        body = "" if r.status_code == 200 else (await r.aread()).decode()
        return r.status_code, body


async def test_a_ticket_opens_the_stream_and_nothing_else(system: System) -> None:
    async with system.client("supervisor", DESK) as sup:
        r = await sup.post("/v1/stream/tickets")
        assert r.status_code == 200, r.text
        ticket = r.json()["ticket"]
        assert r.json()["expires_in"] == stream_tickets.TTL_S
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as anon:
        assert (await _opens(anon, ticket=ticket))[0] == 200
        as_bearer = {"Authorization": f"Bearer {ticket}"}
        r = await anon.get("/v1/incidents", headers=as_bearer)
        assert r.status_code == 401, "a ticket is no access token"


async def test_an_access_token_in_the_url_is_refused(system: System) -> None:
    token = mint_token(system.settings, sub="sup", role="supervisor", districts=[DESK])
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as anon:
        status, text = await _opens(anon, access_token=token)
        assert status == 401 and "ticket" in text, text
        r = await anon.get("/v1/incidents", params={"access_token": token})
        assert r.status_code == 401, "no endpoint reads a token from the URL"
        assert (await _opens(anon))[0] == 401


async def test_expired_forged_and_volunteer_tickets_are_refused(system: System) -> None:
    sup = Principal(sub="sup", role="supervisor", districts=(DESK,))
    expired = stream_tickets.mint(system.settings, sup, ttl_s=-5)
    other = CommonSettings(jwt_secret="another-secret-entirely")  # type: ignore[arg-type]
    forged = stream_tickets.mint(other, sup)
    volunteer = stream_tickets.mint(system.settings, Principal(sub="v", role="volunteer"))
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as anon:
        status, text = await _opens(anon, ticket=expired)
        assert status == 401 and "expired" in text, text
        status, text = await _opens(anon, ticket=forged)
        assert status == 401 and "InvalidSignatureError" in text, text
        assert (await _opens(anon, ticket=volunteer))[0] == 403
    async with system.client("volunteer") as v:
        assert (await v.post("/v1/stream/tickets")).status_code == 403


async def test_a_ticket_dies_with_its_session(system: System) -> None:
    token = mint_token(system.settings, sub="signing-out", role="duty_desk", districts=[DESK])
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=system.url, timeout=10, headers=bearer) as desk:
        ticket = (await desk.post("/v1/stream/tickets")).json()["ticket"]
        assert (await desk.post("/v1/auth/sign-out")).status_code == 202

        async def signed_out() -> bool:
            return (await desk.get("/v1/incidents")).status_code == 401

        await eventually(signed_out, timeout=30, what="the sign-out applied")
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as anon:
        status, text = await _opens(anon, ticket=ticket)
        assert status == 401 and "revoked" in text, text
