"""The roster, read through the page's own origin: a thin read-only proxy to the registry.

The consoles are served by the dispatcher and their CSP lets scripts fetch only their own
origin; the roster lives in the registry. Rather than widen the CSP and open CORS on the
registry, this forwards exactly the roster's two GET routes with the caller's bearer token, so
the registry itself authenticates and scopes every answer (the dispatcher never reads registry
tables and adds no rights of its own). Setting: BAIYING_CONSOLES_REGISTRY_URL.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response
from pydantic_settings import BaseSettings, SettingsConfigDict

from baiying_shared.errors import Unavailable

PREFIX = "/console-api/registry"
# The only registry paths a page may read through here; anything else is not routed at all.
FORWARDED = ("/v1/roster", "/v1/roster/people")
_PASSED = ("content-type", "cache-control")


class RegistryLink(BaseSettings):
    """Where the registry answers, seen from the dispatcher (not from the browser)."""

    model_config = SettingsConfigDict(env_prefix="BAIYING_CONSOLES_", env_file=".env",
                                      extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    registry_timeout_s: float = 10.0


def router(link: RegistryLink | None = None) -> APIRouter:
    """GET PREFIX + each FORWARDED path, answered by the registry with the caller's token."""
    link = link or RegistryLink()
    r = APIRouter(tags=["consoles"], include_in_schema=False)

    async def forward(request: Request) -> Response:
        path = request.url.path.removeprefix(PREFIX)
        headers = {"Accept": "application/json"}
        if auth := request.headers.get("authorization"):
            headers["Authorization"] = auth
        try:
            async with httpx.AsyncClient(base_url=link.registry_url,
                                         timeout=link.registry_timeout_s) as client:
                answer = await client.get(path, params=request.query_params, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"registry unreachable: {type(exc).__name__}") from exc
        kept = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    for path in FORWARDED:
        r.add_api_route(PREFIX + path, forward, methods=["GET"])
    return r
