"""Topics a test session made are deleted when it ends.

Every test gets a topic prefix of its own, and the services create all catalogue topics
under it. Left behind, they pile up across runs on a long-lived broker: about 20,000
partition directories ran the shared development broker out of file descriptors (each
partition keeps its active segment open) and it died mid-run. So each prefix a test uses
is recorded here and its topics are deleted at the end of the session or the System.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

_USED: set[tuple[str, str]] = set()
BATCH = 200  # topics per DeleteTopics request


def used(bootstrap: str, prefix: str) -> None:
    """Remember that `prefix` was used on the broker at `bootstrap`."""
    if prefix:
        _USED.add((bootstrap, prefix))


async def delete_prefixed(bootstrap: str, prefixes: set[str]) -> int:
    """Delete every topic on `bootstrap` starting with one of `prefixes`; how many went."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(tuple(prefixes))]
        for i in range(0, len(names), BATCH):
            await admin.delete_topics(names[i:i + BATCH], timeout_ms=30_000)
        return len(names)
    except (KafkaError, OSError) as exc:  # a broker already gone: nothing left to tidy
        log.warning("could not delete test topics on %s: %s", bootstrap, exc)
        return 0
    finally:
        await admin.close()


async def delete_all_used() -> int:
    """Delete the topics of every prefix recorded in this session."""
    by_broker: dict[str, set[str]] = {}
    for bootstrap, prefix in _USED:
        by_broker.setdefault(bootstrap, set()).add(prefix)
    _USED.clear()
    return sum([await delete_prefixed(b, p) for b, p in by_broker.items()])
