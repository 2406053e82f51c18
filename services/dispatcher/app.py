"""The dispatcher's FastAPI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from baiying_consoles import router as console_router
from baiying_dispatcher.api import router
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.consumers import make_consumers
from baiying_dispatcher.gazetteer.api import router as gazetteer_router
from baiying_dispatcher.nextsteps_api import router as nextsteps_router
from baiying_dispatcher.prevention.api import router as cases_router
from baiying_dispatcher.prevention.campaign_api import router as campaigns_router
from baiying_dispatcher.prevention.campaign_runs import run_scheduler
from baiying_dispatcher.prevention.hotspots_api import router as hotspots_router
from baiying_dispatcher.prevention.report_api import router as report_router
from baiying_dispatcher.rounds import run_timer
from baiying_dispatcher.stream import ChangeHub
from baiying_dispatcher.stream_api import router as stream_router
from baiying_shared.logging import configure_logging
from baiying_shared.oidc_api import router as auth_router
from baiying_shared.runtime import running
from baiying_shared.web import install_common


def create_app(settings: DispatcherSettings | None = None) -> FastAPI:
    """Build the app; I/O starts in the lifespan."""
    settings = settings or DispatcherSettings()
    configure_logging(service="dispatcher", level=settings.log_level, json=settings.log_json)
    hub = ChangeHub(settings.database_url.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, service="dispatcher", schema="dispatcher",
                           migrations_package="baiying_dispatcher",
                           consumers=make_consumers) as rt:
            app.state.runtime = rt
            checks = rt.checks()

            async def stream() -> None:
                await asyncio.wait_for(hub.listening.wait(), 1)

            app.state.readiness = {**checks, "stream": stream}
            rt.background += [
                hub.start(),
                asyncio.create_task(run_timer(rt.pool, settings=settings), name="round-timer"),
            ]
            if settings.campaign_tick_s > 0:  # 以案说防 runs (docs/campaigns.md)
                rt.background.append(asyncio.create_task(
                    run_scheduler(rt.pool, settings=settings), name="campaign-scheduler"))
            yield

    app = FastAPI(title="Baiying dispatcher", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    install_common(app, service="dispatcher")
    app.include_router(router)
    app.include_router(stream_router)  # live changes: a ticket, then server-sent events
    app.include_router(gazetteer_router)  # standard addresses, categories and districts
    app.include_router(nextsteps_router)  # the desk's moves on a short or unmet call
    app.include_router(cases_router)  # 以案说防: the case library
    app.include_router(campaigns_router)  # 以案说防: campaigns, dry run, reach
    app.include_router(hotspots_router)  # where and when cases cluster
    app.include_router(report_router)  # the bureau's monthly figures
    app.include_router(auth_router)  # sign-out and session revocation (docs/auth.md)
    app.include_router(console_router())  # duty desk and supervisor dashboard pages
    return app
