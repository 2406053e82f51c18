"""A tiny app guarded like a service: what the token tests (dev tokens and Keycloak's) call."""

from __future__ import annotations

from fastapi import FastAPI

from baiying_shared.auth import CurrentPrincipal, DutyDeskPrincipal
from baiying_shared.settings import CommonSettings
from baiying_shared.web import install_common


def guarded_app(settings: CommonSettings) -> FastAPI:
    """`POST /districts/{code}/incidents` for a duty desk of that district; `GET /me` for anyone
    signed in (the principal as JSON). Errors mapped by install_common, as in every service."""
    app = FastAPI()
    app.state.settings = settings
    install_common(app, service="authtest")

    @app.post("/districts/{code}/incidents")
    async def raise_incident(code: str, principal: DutyDeskPrincipal) -> dict[str, str]:
        principal.ensure_district(code)
        return {"raised_in": code}

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, object]:
        return principal.model_dump(mode="json")

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
