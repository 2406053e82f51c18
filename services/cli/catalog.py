"""The services this repo runs: where their app factory lives, their port and schema."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app_factory: str  # "module:function" returning a FastAPI app from default settings
    port: int
    schema: str | None  # None: no database (the SMS sandbox keeps state in memory)
    migrations: str | None


SERVICES: dict[str, ServiceSpec] = {
    s.name: s
    for s in (
        ServiceSpec(
            "registry", "baiying_registry.app:create_app", 8001, "registry", "baiying_registry"
        ),
        ServiceSpec(
            "dispatcher",
            "baiying_dispatcher.app:create_app",
            8002,
            "dispatcher",
            "baiying_dispatcher",
        ),
        ServiceSpec(
            "notifier", "baiying_notifier.app:create_app", 8003, "notifier", "baiying_notifier"
        ),
        ServiceSpec("sandbox", "baiying_sandbox.app:create_app", 8010, None, None),
    )
}
