"""Fixtures for the notifier tests: settings bound to the test infrastructure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from baiying_notifier.config import NotifierSettings
from tests.conftest import Infra, settings_for


@pytest.fixture
def notifier_settings(
    infra: Infra, database_url: str, unique: str
) -> Callable[..., NotifierSettings]:
    """A factory: NotifierSettings for this test (own topic prefix), with overrides."""

    def make(**extra: Any) -> NotifierSettings:
        base: dict[str, Any] = {
            "claim_lease_s": 3.0,
            "twilio_timeout_s": 2.0,
            "reconcile_interval_s": 0.5,
            "retry_base_s": 0.05,
            "sender_mps": 200.0,
        }
        return settings_for(
            NotifierSettings,
            infra=infra,
            database_url=database_url,  # type: ignore[no-any-return]
            prefix=f"t{unique}.",
            **{**base, **extra},
        )

    return make
