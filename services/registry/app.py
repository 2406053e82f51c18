"""The registry service: people and teams of the 群防群治 mechanism (port 8001)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from baiying_registry import api_import, api_teams, api_volunteers
from baiying_registry.config import RegistrySettings
from baiying_registry.consumers import make_consumers
from baiying_registry.domain import Conflict, FieldError, NotFound
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
    _install_errors(app)
    for module in (api_teams, api_import, api_volunteers):
        app.include_router(module.router)
    return app


def _install_errors(app: FastAPI) -> None:
    """Map domain refusals to statuses; a FieldError takes the shared 422 format."""

    async def field_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FieldError)
        shaped = RequestValidationError([{
            "loc": (exc.where, *exc.field.split(".")), "msg": exc.message, "type": "value_error",
        }])
        handler = request.app.exception_handlers[RequestValidationError]
        response: Response = await handler(request, shaped)
        return response

    async def conflict(_: Request, exc: Exception) -> Response:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    async def not_found(_: Request, exc: Exception) -> Response:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    app.add_exception_handler(FieldError, field_error)
    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(NotFound, not_found)
