"""A service runtime starts against the real infra and /readyz tells the truth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from baiying_shared.runtime import running
from baiying_shared.settings import CommonSettings
from baiying_shared.web import install_common
from tests.support import serving


def _app(settings: CommonSettings, schema: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(
            settings, service="probe", schema=schema, migrations_package="tests.fixtures_pkg"
        ) as runtime:
            app.state.runtime = runtime
            app.state.readiness = runtime.checks()
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    install_common(app, service="probe")
    return app


async def test_health_ready_metrics_and_readiness_reports_a_dead_database(
    common_settings: CommonSettings, unique: str
) -> None:
    app = _app(common_settings, f"rt_{unique}")
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "probe"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "checks": {"database": "ok", "kafka": "ok"}}
        assert "baiying_http_request_seconds" in (await client.get("/metrics")).text
        assert ready.headers["x-trace-id"]

        app.state.runtime.pool.terminate()  # every connection of this service is gone
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["checks"]["database"].startswith("failed")
        assert down.json()["checks"]["kafka"] == "ok"
