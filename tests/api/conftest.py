"""Schemathesis against the running services' own OpenAPI documents, with valid tokens."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis import BaseSchema

from tests.system.harness import System


def load(system: System, service: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{system.url(service)}/openapi.json")


@pytest.fixture(scope="session")
def registry_schema(system: System) -> BaseSchema:
    return load(system, "registry")


@pytest.fixture(scope="session")
def dispatcher_schema(system: System) -> BaseSchema:
    return load(system, "dispatcher")


@pytest.fixture(scope="session")
def notifier_schema(system: System) -> BaseSchema:
    return load(system, "notifier")


@pytest.fixture(scope="session")
def auth_headers(system: System) -> dict[str, dict[str, Any]]:
    """Per service, the token a legitimate caller would send."""
    admin = {"Authorization": f"Bearer {system.token('admin')}"}
    desk = {"Authorization": f"Bearer {system.token('duty_desk')}"}
    return {"registry": admin, "dispatcher": desk, "notifier": admin}
