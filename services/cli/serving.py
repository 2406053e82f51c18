"""Run one or several uvicorn servers in one event loop."""

from __future__ import annotations

import asyncio
import importlib

import uvicorn

from baiying_cli.catalog import ServiceSpec
from baiying_shared.logging import configure_logging
from baiying_shared.settings import CommonSettings


async def serve_many(specs: list[ServiceSpec], *, host: str) -> None:
    """Serve each spec on its port; return when all have stopped."""
    servers = []
    for spec in specs:
        module, _, attr = spec.app_factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        config = uvicorn.Config(
            factory(), host=host, port=spec.port, log_config=None, lifespan="on"
        )
        servers.append(uvicorn.Server(config))
    # After the factories: some configure logging for their own name when built alone. Each
    # app labels its own lines (runtime.running, web.install_common); this names the rest.
    settings = CommonSettings()
    configure_logging(
        service="+".join(s.name for s in specs), level=settings.log_level, json=settings.log_json
    )
    await asyncio.gather(*(s.serve() for s in servers))
