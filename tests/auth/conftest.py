"""The real Keycloak, started by the project's own script once per test session."""

from __future__ import annotations

import pytest

from tests.auth.keycloak import Keycloak, start_keycloak


@pytest.fixture(scope="session")
def keycloak() -> Keycloak:
    return start_keycloak()
