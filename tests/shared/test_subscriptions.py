"""The topic catalogue's consumers are the truth: each service's consumer factory subscribes to
exactly the topics that list it (built here from the real factories, no broker needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.consumers import make_consumers as dispatcher_consumers
from baiying_notifier.config import NotifierSettings
from baiying_notifier.consumers import make_consumers as notifier_consumers
from baiying_registry.config import RegistrySettings
from baiying_registry.consumers import make_consumers as registry_consumers
from baiying_shared.events.catalogue import TOPICS
from baiying_shared.runtime import Runtime
from baiying_shared.settings import CommonSettings

PREFIX = "subs."
FACTORIES: dict[str, tuple[type[CommonSettings], Callable[[Runtime], list[Any]]]] = {
    "registry": (RegistrySettings, registry_consumers),
    "dispatcher": (DispatcherSettings, dispatcher_consumers),
    "notifier": (NotifierSettings, notifier_consumers),
}


def _subscribed(service: str) -> set[str]:
    settings_cls, factory = FACTORIES[service]
    settings = settings_cls(topic_prefix=PREFIX)
    # The factories only build consumers; pool, producer and relay are used once they run.
    unused = cast(Any, None)
    runtime = Runtime(settings, service, service, unused, unused, unused)
    return {t.removeprefix(PREFIX) for consumer in factory(runtime) for t in consumer.topics}


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_each_service_subscribes_to_what_the_catalogue_lists(service: str) -> None:
    listed = {t.name for t in TOPICS if service in t.consumers}
    assert listed, f"the catalogue lists nothing for {service}"
    assert _subscribed(service) == listed

