"""Leases on sender numbers in PostgreSQL, so any number of notifiers share the carrier's rate.

Each instance heartbeats, takes its fair share of the numbers whose lease is free or expired,
renews what it holds every `ttl/3`, and paces only those. A holder SIGKILLed simply stops
renewing: its leases expire after `ttl_s` and a live instance takes them on its next step.

Fencing: every lease has an epoch that grows on each hand-over, and the claim of a row
(store.claim) succeeds only if the claimer still holds that sender at that epoch with at
least `margin_s` left. A new holder can only take a lease after it expired, so the old
holder's last claim was at least `margin_s` earlier; with `margin_s` above the pacing
tolerance, the carrier has sent what the old holder handed it before the new one starts,
and the per-sender rate holds across the hand-over. The sender also checks the local
deadline after its claim returns, so a process stalled between renewal and claim gives the
row back instead of sending late.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from baiying_notifier.domain.leases import fair_share, plan
from baiying_shared.logging import get_logger

log = get_logger(__name__)
SERVICE_LEASE = "messaging-service"  # the lease name when sending through a messaging service

_TAKE = """
INSERT INTO sender_leases (sender, holder, epoch, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (sender) DO UPDATE SET holder = EXCLUDED.holder, epoch = sender_leases.epoch + 1,
    expires_at = EXCLUDED.expires_at
WHERE sender_leases.expires_at < now()
RETURNING epoch
"""
_RENEW = """
UPDATE sender_leases SET expires_at = now() + make_interval(secs => $3)
WHERE holder = $1 AND sender = ANY($2::text[]) AND expires_at > now()
RETURNING sender, epoch
"""
# Given back with the margin still to run, so nobody sends over what we handed the carrier.
_GIVE_BACK = """
UPDATE sender_leases SET expires_at = least(expires_at, now() + make_interval(secs => $3))
WHERE holder = $1 AND sender = ANY($2::text[])
"""
_BEAT = """
INSERT INTO notifier_instances (id, seen_at) VALUES ($1, now())
ON CONFLICT (id) DO UPDATE SET seen_at = now()
"""
_LIVE = "SELECT count(*) FROM notifier_instances WHERE seen_at > now() - make_interval(secs => $1)"
_GONE = "DELETE FROM notifier_instances WHERE id = $1"
# How long until the first lease we want but could not take runs out (None: none is held).
_WAIT = """
SELECT extract(epoch FROM min(expires_at) - now())::float8 FROM sender_leases
WHERE sender = ANY($1::text[]) AND holder <> $2
"""
_FORGET = "DELETE FROM notifier_instances WHERE seen_at < now() - interval '1 hour'"


def lease_name(sender: str | None) -> str:
    return sender or SERVICE_LEASE


def from_number(name: str) -> str | None:
    return None if name == SERVICE_LEASE else name


@dataclass(frozen=True)
class Lease:
    name: str
    epoch: int
    valid_until: float  # local monotonic time after which we must not start a send


class SenderLeases:
    """The leases this instance holds; `changed` is set whenever the set changes."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool[Any],
        names: tuple[str, ...],
        ttl_s: float,
        margin_s: float,
        holder: uuid.UUID | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 2 * margin_s:
            raise ValueError("the lease must outlast twice its fencing margin")
        self._pool, self.names, self.ttl_s, self.margin_s = pool, names, ttl_s, margin_s
        self.holder = holder or uuid.uuid4()
        self._clock = clock
        self._held: dict[str, Lease] = {}
        self._short_s: float | None = None  # under our share: when the next lease frees up
        self.changed = asyncio.Event()

    def held(self) -> dict[str, Lease]:
        """Leases still valid by the local clock."""
        now = self._clock()
        return {n: lease for n, lease in self._held.items() if lease.valid_until > now}

    def valid(self, name: str, epoch: int) -> bool:
        lease = self.held().get(name)
        return lease is not None and lease.epoch == epoch

    async def step(self) -> None:
        """Heartbeat, renew, then take or give back to reach the fair share."""
        started = self._clock()
        deadline = started + self.ttl_s - self.margin_s  # the database's expiry is later
        async with self._pool.acquire() as conn:
            await conn.execute(_BEAT, self.holder)
            live = await conn.fetchval(_LIVE, self.ttl_s)
            renewed = {
                r["sender"]: r["epoch"]
                for r in await conn.fetch(_RENEW, self.holder, list(self._held), self.ttl_s)
            }
            todo = plan(names=self.names, held=set(renewed), live_instances=live)
            for name in todo.acquire:
                epoch = await conn.fetchval(_TAKE, name, self.holder, self.ttl_s)
                if epoch is not None:
                    renewed[name] = epoch
                    if len(renewed) >= fair_share(len(self.names), live):
                        break  # at our share: leave the rest to others
            if todo.release:
                await conn.execute(_GIVE_BACK, self.holder, list(todo.release), self.margin_s)
                for name in todo.release:
                    renewed.pop(name, None)
            self._short_s = await self._until_free(conn, renewed, live)
        self._set({n: Lease(n, e, deadline) for n, e in renewed.items()})

    async def _until_free(
        self, conn: asyncpg.Connection[Any], held: dict[str, int], live: int
    ) -> float | None:
        """Under our share, the seconds until a lease we lack runs out, else None. A lease
        given back on a graceful stop still runs its margin: a successor (a restart, the next
        deploy) that looked a moment too early must not then wait a whole ttl/3 to send."""
        if len(held) >= fair_share(len(self.names), live):
            return None
        lacking = [n for n in self.names if n not in held]
        wait: float | None = await conn.fetchval(_WAIT, lacking, self.holder)
        return None if wait is None else max(wait, 0.0)

    def next_step_in(self) -> float:
        """The pause before the next step: ttl/3, or sooner when a lease we lack frees up."""
        if self._short_s is None:
            return self.ttl_s / 3
        return min(self.ttl_s / 3, self._short_s + 0.02)  # just past its expiry

    def _set(self, leases: dict[str, Lease]) -> None:
        before = {(n, lease.epoch) for n, lease in self._held.items()}
        self._held = leases
        if before != {(n, lease.epoch) for n, lease in leases.items()}:
            log.info("sender leases", held=sorted(leases), holder=str(self.holder))
            self.changed.set()

    async def run(self) -> None:
        """Step every `ttl/3` until cancelled; a failed step leaves leases to lapse locally."""
        lost = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
        beats = 0
        while True:
            try:
                await self.step()
                beats += 1
                if beats % 1000 == 0:
                    await self._pool.execute(_FORGET)
            except lost as exc:
                log.warning("sender lease step failed", error=str(exc))
            await asyncio.sleep(self.next_step_in())

    async def release_all(self) -> None:
        """Graceful stop: give every lease back (after the margin), so others need not wait."""
        lost = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
        with contextlib.suppress(*lost):
            async with asyncio.timeout(2.0):  # never hold up a shutdown: the ttl frees them
                await self._pool.execute(_GIVE_BACK, self.holder, list(self._held), self.margin_s)
                await self._pool.execute(_GONE, self.holder)
        self._set({})
