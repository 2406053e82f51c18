"""What every service's scope test shares: its routes, the tokens that must be refused, a call.

Routes come from the app itself (OpenAPI paths plus WebSocket routes), so a route added
without a scope rule fails `test_every_route_has_a_scope_rule` (tests/scope/test_rules.py).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import jwt
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute
from starlette.routing import BaseRoute

from baiying_shared.settings import CommonSettings
from tests.auth.keycloak import Keycloak

Route = tuple[str, str]  # (method, path template); WebSockets have method "WS"
HOME, AWAY = "360702", "360703"  # 章贡区 holds the data; 南康区 must never see it
# What install_common serves in every service, open to anyone (probes and metrics).
COMMON_PUBLIC: tuple[Route, ...] = (("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"))


def routes_of(app: FastAPI) -> set[Route]:
    """Every HTTP operation the app documents, and every WebSocket it accepts."""
    paths = app.openapi()["paths"]
    http = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    return http | {("WS", path) for path in _websockets(app.routes)}


def _websockets(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[str]:
    """WebSocket paths, also inside included routers (FastAPI keeps those unflattened)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            context = getattr(r, "include_context", None)
            yield from _websockets(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(r, APIWebSocketRoute):
            yield prefix + r.path


def route_id(route: Route) -> str:
    return f"{route[0]} {route[1]}"


def dev_claims(settings: CommonSettings, **extra: Any) -> dict[str, Any]:
    """A development token's claims for an admin of everywhere, unless `extra` says otherwise."""
    now = int(time.time())
    return {"kind": "dev", "sub": "x", "role": "admin", "districts": ["*"],
            "iss": settings.jwt_issuer, "iat": now, "exp": now + 600, **extra}


def bad_tokens(settings: CommonSettings) -> dict[str, str]:
    """Tokens that would grant everything were they genuine: all must get 401."""
    secret = settings.jwt_secret.get_secret_value()
    return {
        "expired": jwt.encode(dev_claims(settings, exp=int(time.time()) - 60), secret, "HS256"),
        "forged": jwt.encode(dev_claims(settings), "not-the-secret-" + "x" * 32, "HS256"),
        "alg_none": jwt.encode(dev_claims(settings), key=None, algorithm="none"),
    }


async def call(base_url: str, method: str, path: str, token: str | None, *,
               body: Any = None, params: dict[str, str] | None = None) -> httpx.Response:
    """One request with `token` as the bearer (none: no header)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        return await c.request(method, path, headers=headers, json=body, params=params)


def leaks(text: str, *secrets: str) -> list[str]:
    """Which of `secrets` (ids, titles, district codes of the other side) appear in `text`."""
    return [s for s in secrets if s and s in text]


async def refused_tokens(settings: CommonSettings, kc: Keycloak) -> dict[str, str | None]:
    """No token, and every bad one that would grant everything were it genuine: development
    tokens (`bad_tokens`) and a real provider token of the city admin made over
    (`bad_provider_tokens`). Each must get 401."""
    genuine = await kc.token("admin.city")
    return {"none": None, **bad_tokens(settings), **bad_provider_tokens(genuine)}


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bad_provider_tokens(genuine: str) -> dict[str, str]:
    """A real provider token made to grant everywhere: claims changed under its signature, and
    the same claims with alg=none under the provider's key id. Both must get 401."""
    header = jwt.get_unverified_header(genuine)
    claims = {**jwt.decode(genuine, options={"verify_signature": False}),
              "districts": ["*"], "realm_access": {"roles": ["admin"]}}
    signature = genuine.rsplit(".", 1)[1]
    return {
        "provider_tampered": f"{_b64(header)}.{_b64(claims)}.{signature}",
        "provider_alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}"
                             f".{_b64(claims)}.",
    }
