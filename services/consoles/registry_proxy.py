"""The roster, through the page's own origin: a thin proxy to exactly three registry routes.

The consoles are served by the dispatcher and their CSP lets scripts fetch only their own
origin; the roster lives in the registry. Rather than widen the CSP and open CORS on the
registry, this forwards the roster's two GET routes and the audited phone reveal (POST, with
its reason) with the caller's bearer token, so the registry itself authenticates, scopes and
audits every call (the dispatcher never reads registry tables and adds no rights of its own).
Setting: BAIYING_CONSOLES_REGISTRY_URL.
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import APIRouter, Request, Response
from pydantic_settings import BaseSettings, SettingsConfigDict

from baiying_shared.errors import Unavailable

PREFIX = "/console-api/registry"
# The only registry routes a page may reach through here; anything else is not routed at all.
FORWARDED = (("GET", "/v1/roster"), ("GET", "/v1/roster/people"),
             ("POST", "/v1/volunteers/{volunteer_id}/phone:reveal"))
_PASSED = ("content-type", "cache-control")


class RegistryLink(BaseSettings):
    """Where the registry answers, seen from the dispatcher (not from the browser)."""

    model_config = SettingsConfigDict(env_prefix="BAIYING_CONSOLES_", env_file=".env",
                                      extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    registry_timeout_s: float = 10.0


def router(link: RegistryLink | None = None) -> APIRouter:
    """PREFIX + each FORWARDED route, answered by the registry with the caller's token."""
    link = link or RegistryLink()
    r = APIRouter(tags=["consoles"], include_in_schema=False)

    async def forward(request: Request) -> Response:
        path = request.url.path.removeprefix(PREFIX)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if auth := request.headers.get("authorization"):
            headers["Authorization"] = auth
        try:
            async with httpx.AsyncClient(base_url=link.registry_url,
                                         timeout=link.registry_timeout_s) as client:
                answer = await client.request(request.method, path, params=request.query_params,
                                              headers=headers, content=await request.body())
        except httpx.HTTPError as exc:
            raise Unavailable(f"registry unreachable: {type(exc).__name__}") from exc
        kept = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    async def reveal(volunteer_id: uuid.UUID, request: Request) -> Response:
        return await forward(request)  # the id typed: nothing but a UUID reaches the path

    for method, path in FORWARDED:
        r.add_api_route(PREFIX + path, reveal if method == "POST" else forward, methods=[method])
    return r
