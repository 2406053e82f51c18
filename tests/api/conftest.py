"""Schemathesis against the running services' own OpenAPI documents, with valid tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from schemathesis import BaseSchema

from tests.conftest import Infra
from tests.system.harness import System, running_system


@pytest.fixture(scope="package")
async def system(infra: Infra) -> AsyncIterator[System]:
    """A System of its own: generated incidents escalate for seconds and generated volunteers
    land anywhere, which must not reach the people other tests place on the shared System."""
    async with running_system(infra.admin_database_url, infra.kafka_bootstrap) as system:
        yield system


def load(system: System, service: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{system.url(service)}/openapi.json")


@pytest.fixture(scope="package")
def registry_schema(system: System) -> BaseSchema:
    return load(system, "registry")


@pytest.fixture(scope="package")
def dispatcher_schema(system: System) -> BaseSchema:
    return load(system, "dispatcher")


@pytest.fixture(scope="package")
def notifier_schema(system: System) -> BaseSchema:
    return load(system, "notifier")


@pytest.fixture(scope="package")
def auth_headers(system: System) -> dict[str, dict[str, Any]]:
    """Per service, the token a legitimate caller would send."""
    admin = {"Authorization": f"Bearer {system.token('admin')}"}
    desk = {"Authorization": f"Bearer {system.token('duty_desk')}"}
    return {"registry": admin, "dispatcher": desk, "notifier": admin}
