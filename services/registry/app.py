"""The registry service: people and teams of the 群防群治 mechanism (port 8001)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from baiying_registry import api_import, api_reach, api_teams, api_volunteers, reveal, roster
from baiying_registry.config import RegistrySettings
from baiying_registry.consumers import make_consumers
from baiying_shared.runtime import running
from baiying_shared.web import install_common


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The registry's FastAPI app; I/O starts in the lifespan."""
    settings = settings or RegistrySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, service="registry", schema=settings.db_schema,
                           migrations_package="baiying_registry", consumers=make_consumers) as rt:
            app.state.runtime = rt
            app.state.readiness = rt.checks()
            yield

    app = FastAPI(
        title="Baiying registry", version="1",
        description="Volunteers and teams (一呼百应 registry). Admins write; supervisors and "
        "the duty desk read within their districts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_common(app, service="registry")
    for module in (api_teams, api_import, api_reach, api_volunteers, reveal, roster):
        app.include_router(module.router)
    return app

