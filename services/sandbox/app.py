"""The SMS sandbox: a Twilio-compatible Messages API with simulated phones, in memory."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from baiying_sandbox import admin, api, listing
from baiying_sandbox.carrier import Carrier
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.create import Concurrency, SandboxApp
from baiying_sandbox.store import Store
from baiying_shared.logging import configure_logging
from baiying_shared.web import install_common


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build the sandbox app; all state lives in `app.state.store`."""
    settings = settings or SandboxSettings()
    store = Store(behaviour=settings.behaviour(), rng=random.Random(settings.seed))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        carrier = Carrier(
            store=store,
            account_sid=settings.account_sid,
            auth_token=settings.auth_token.get_secret_value(),
            workers=settings.callback_concurrency,
            pool=settings.service_numbers,
        )
        carrier.start()
        app.state.carrier = carrier
        app.state.readiness = {"memory": _always_ready}
        try:
            yield
        finally:
            await carrier.stop()

    app = SandboxApp(title="Baiying SMS sandbox (Twilio-compatible)", lifespan=lifespan)
    app.state.settings, app.state.store = settings, store
    app.state.concurrency = Concurrency(store)
    install_common(app, service="sandbox")

    @app.exception_handler(api.TwilioError)
    async def twilio_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, api.TwilioError)
        return api.twilio_error(exc.status, exc.code, exc.message)

    plain = cast(
        Callable[[Request, Exception], Awaitable[Response]],
        app.exception_handlers[StarletteHTTPException],
    )

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: Exception) -> Response:
        # Twilio's own error body for unknown resources and methods under its API path.
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(f"/{api.API_VERSION}/") and exc.status_code in (404, 405):
            if exc.status_code == 405:
                return api.twilio_error(405, 20004, "Method not allowed")
            text = f"The requested resource {request.url.path} was not found"
            return api.twilio_error(404, 20404, text)
        return await plain(request, exc)

    app.include_router(api.router)
    app.include_router(listing.router)
    app.include_router(admin.router)
    return app


async def _always_ready() -> None:
    return None


def main() -> FastAPI:  # uvicorn --factory entry that also configures logging
    settings = SandboxSettings()
    configure_logging(service="sandbox", level=settings.log_level, json=True)
    return create_app(settings)
