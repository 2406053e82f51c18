"""Which sessions were revoked, kept in memory by every service and fed from auth.revocations.v1.

A revocation names a subject and either one session (an OIDC `sid`, a volunteer's device id)
or none, meaning "every token of this subject issued up to now". Entries are dropped after
`keep_s` — longer than any token lives, so forgetting one never readmits a token.
Open streams and sockets register a watcher and are closed when their holder is revoked.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer

from baiying_shared.events.envelope import Envelope
from baiying_shared.events.revocations import TOPIC, SessionRevoked
from baiying_shared.handlers import route
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.logging import get_logger
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)

DAY_S = 24 * 3600
# No token Baiying accepts lives longer (volunteer device sessions: 30 days); revocations are kept,
# and the topic retains them, at least this long.
MAX_SESSION_S = 31 * DAY_S


@dataclass(eq=False)  # identity equality: each open stream is its own watch
class _Watch:
    sub: str
    session_id: str | None
    revoked: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RevocationList:
    """Revoked sessions and subjects; `is_revoked` is a dict lookup on every request."""

    keep_s: float = MAX_SESSION_S
    clock: Callable[[], float] = time.time
    _sessions: dict[str, float] = field(default_factory=dict)
    _subjects: dict[str, float] = field(default_factory=dict)  # sub -> tokens issued up to here
    _watches: set[_Watch] = field(default_factory=set)

    def revoke(self, *, sub: str, session_id: str | None, at: float) -> None:
        """Record a revocation and wake every stream its holder has open."""
        self._forget_old()
        if session_id:
            self._sessions[session_id] = at
        else:
            self._subjects[sub] = max(at, self._subjects.get(sub, 0.0))
        for watch in list(self._watches):
            if watch.sub == sub and (session_id is None or watch.session_id == session_id):
                watch.revoked.set()

    def is_revoked(self, *, sub: str, session_id: str | None, issued_at: int | None) -> bool:
        if session_id and session_id in self._sessions:
            return True
        cutoff = self._subjects.get(sub)
        # iat has whole seconds: a token minted in the revocation's own second counts as revoked.
        return cutoff is not None and (issued_at is None or issued_at <= cutoff)

    def watch(self, *, sub: str, session_id: str | None) -> _Watch:
        """An event set when this holder is revoked; pass it back to `unwatch` when done."""
        w = _Watch(sub=sub, session_id=session_id)
        self._watches.add(w)
        return w

    def unwatch(self, w: _Watch) -> None:
        self._watches.discard(w)

    def _forget_old(self) -> None:
        horizon = self.clock() - self.keep_s
        for table in (self._sessions, self._subjects):
            for key in [k for k, at in table.items() if at < horizon]:
                del table[key]


def apply_revocation(
    revocations: RevocationList,
) -> Callable[[Envelope[SessionRevoked]], Awaitable[None]]:
    """A handler for SessionRevoked envelopes (idempotent: revoking twice changes nothing)."""

    async def handle(env: Envelope[SessionRevoked]) -> None:
        p = env.payload
        revocations.revoke(sub=p.sub, session_id=p.session_id, at=p.at.timestamp())
        log.info("auth.session_revoked", sub=p.sub, session_id=p.session_id, by=p.by)

    return handle


def revocation_consumer(
    settings: CommonSettings,
    *,
    service: str,
    revocations: RevocationList,
    dead_letters: AIOKafkaProducer,
) -> EventConsumer:
    """This process's consumer of auth.revocations.v1.

    A group of its own (every replica must see every revocation, not a share of them),
    reading from the earliest retained record so a process started after a revocation knows it.
    """
    handler: Any = apply_revocation(revocations)
    return EventConsumer(
        settings=settings,
        group_id=f"{service}-revocations-{uuid.uuid4().hex[:12]}",
        topics=[TOPIC],
        handle=route({SessionRevoked: handler}),
        dead_letters=dead_letters,
        concurrency=1,
    )
