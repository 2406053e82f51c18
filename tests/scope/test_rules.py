"""Every route of every service has a scope rule in its scope test, and no rule names a route
that is gone: a new route cannot slip past tests/scope unguarded by oversight."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from fastapi import FastAPI

from baiying_dispatcher.app import create_app as dispatcher_app
from baiying_notifier.app import create_app as notifier_app
from baiying_registry.app import create_app as registry_app
from tests.scope import test_dispatcher_scope, test_notifier_scope, test_registry_scope
from tests.scope.support import Route, routes_of

SERVICES: dict[str, tuple[Callable[[], FastAPI], Iterable[Route]]] = {
    "registry": (registry_app, test_registry_scope.RULES),
    "dispatcher": (dispatcher_app, test_dispatcher_scope.RULES),
    "notifier": (notifier_app, test_notifier_scope.RULES),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_route_has_a_scope_rule(service: str) -> None:
    make_app, rules = SERVICES[service]
    assert routes_of(make_app()) == set(rules), "a route without a scope rule (or one for none)"
