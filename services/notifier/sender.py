"""The SMS pump: pending rows in, paced and capped sends out, each claimed just before it goes.

Order: a heap keyed by (class, rank, arrival) — confirmations, then call-out alerts nearest
first, then sign-in codes, then advisories — popped only once a sender's pacer and a claim
slot allow (a request slot is then held for the HTTP request alone), so a call-out that
arrives behind a 10,000-person advisory leaves next.
Only the senders whose lease this instance holds are paced here (leases.py); every instance
keeps the whole queue, and the fenced claim decides which one sends a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg

from baiying_notifier import store, stuck, urgent_claims
from baiying_notifier.batching import Batcher, Once
from baiying_notifier.config import NotifierSettings
from baiying_notifier.domain.pacing import RetryPolicy, SegmentPacer, is_bulk, is_retryable
from baiying_notifier.gateway import GatewayError, OutboundSms, SmsGateway
from baiying_notifier.leases import SenderLeases, from_number, lease_name
from baiying_notifier.store import Fence, Queued
from baiying_shared.logging import get_logger
from baiying_shared.sms import segments

log = get_logger(__name__)
LOAD_BATCH = 2000


class Sender:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool[Any],
        gateway: SmsGateway,
        settings: NotifierSettings,
        rng: random.Random | None = None,
    ) -> None:
        self._pool, self._gateway, self._settings = pool, gateway, settings
        self._rng = rng or random.Random()
        self._heap: list[tuple[int, int, int, int, Queued]] = []
        self._tie = itertools.count()
        self._known: set[uuid.UUID] = set()
        # Their seqs: a NOTIFY for a row intake already handed us (hand_to) loads nothing.
        self._known_seqs: set[int] = set()
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # a call-out (not bulk) was queued: pace for it at once
        self._announced: set[int] = set()
        names = tuple(lease_name(s) for s in settings.sms_senders) or (lease_name(None),)
        # Past the most our pacer hands the carrier ahead of schedule (the tolerance, plus its
        # lead of at most the tolerance again), so a new holder finds the carrier queue drained.
        margin = 2 * settings.pacing_tolerance_s + 0.25
        self.leases = SenderLeases(
            pool=pool, names=names, ttl_s=settings.sender_lease_ttl_s, margin_s=margin
        )
        self._fence = Fence(self.leases.holder, margin)
        self._pacers: dict[str, SegmentPacer] = {}  # lease name -> its pacer
        # Requests at the provider, and popped messages still being claimed: the claim does
        # not hold a request slot (on a loaded box it takes as long as the request itself,
        # which halved the rate a slot carries and starved the pacer: 0.78-0.90 of the limit).
        self._inflight = asyncio.Semaphore(settings.sms_max_in_flight)
        self._claiming = asyncio.Semaphore(settings.sms_max_in_flight)
        self._policy = RetryPolicy(
            settings.retry_max_attempts, settings.retry_base_s, settings.retry_cap_s
        )
        claim = partial(store.claim, pool, self._fence)
        self._claims: Batcher[tuple[uuid.UUID, str, int], int | None] = Batcher(
            claim, max_items=200, max_wait_s=0.002, eager=True
        )  # an idle sender's first claim goes at once; under load claims gather for 2 ms
        # A call-out's claim never waits behind (or inside) a batch of 200 advisory claims.
        self._urgent_pool: asyncpg.Pool[Any] | None = None  # run() opens it
        self._urgent_claims: Batcher[tuple[uuid.UUID, str, int], int | None] = Batcher(
            self._claim_urgent, max_items=20, max_wait_s=0.0, eager=True
        )
        self._submits: Batcher[tuple[Queued, str | None, str, str], None] = Batcher(
            partial(store.submitted, pool), max_items=200, max_wait_s=0.01
        )
        self._validity_s = stuck.validity_s(
            gateway.capabilities, validity=settings.sms_validity, after_s=settings.stuck_after_s
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats: Counter[str] = Counter()

    def push(self, item: Queued) -> None:
        """Queue an item unless it is already queued or in flight here."""
        if item.id in self._known:
            return
        self._known.add(item.id)
        row = item.row
        self._known_seqs.add(row["seq"])
        heapq.heappush(
            self._heap, (row["priority"], row["rank"], row["seq"], next(self._tie), item)
        )
        self._ready.set()
        if not _bulk(item):
            self._urgent.set()

    def wake(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        """LISTEN callback: committed pending rows' seqs, comma-separated (empty: just look)."""
        self._announced.update(int(s) for s in payload.split(",") if s.isdigit())
        self._wake.set()

    async def _claim_urgent(self, wanted: list[tuple[uuid.UUID, str, int]]) -> list[int | None]:
        return await urgent_claims.claim(self._pool, self._urgent_pool, self._fence, wanted)

    async def run(self) -> None:
        """Load and send until cancelled."""
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self.leases.step()  # hold our share before the first send
            # without it call-outs claim on the shared pool
            self._urgent_pool = await urgent_claims.open_own_pool(self._pool, self._settings)
        loader = asyncio.create_task(self._load_forever(), name="sms-loader")
        keeper = asyncio.create_task(self.leases.run(), name="sms-leases")
        try:
            await self._dispatch_forever()
        finally:
            loader.cancel()
            keeper.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(loader, keeper, *self._tasks, return_exceptions=True)
            await self.leases.release_all()
            if self._urgent_pool is not None:
                await self._urgent_pool.close()

    async def _load_forever(self) -> None:
        """Everything pending at start, then what NOTIFY announces, plus a slow safety sweep."""
        lease = self._settings.claim_lease_s
        last_sweep, loaded_all = time.monotonic(), False
        while True:
            seqs, self._announced = list(self._announced - self._known_seqs), set()
            try:
                if not loaded_all:
                    await self._load_all()
                    loaded_all = True
                for item in await store.load_by_seq(self._pool, seqs) if seqs else []:
                    self.push(item)
                if time.monotonic() - last_sweep > lease:  # missed notifications, dead peers
                    last_sweep = time.monotonic()
                    for item in await store.load_stale(self._pool, older_than_s=lease, limit=5000):
                        self.push(item)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._announced.update(seqs)  # try those again on the next turn
                log.warning("loading pending messages failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)
            self._wake.clear()

    async def _load_all(self) -> None:
        watermark = 0
        while batch := await store.load_pending(self._pool, after_seq=watermark, limit=LOAD_BATCH):
            for item in batch:
                watermark = max(watermark, item.row["seq"])
                self.push(item)

    async def _dispatch_forever(self) -> None:
        while True:
            while not self._heap:
                self._ready.clear()
                await self._ready.wait()
            await self._claiming.acquire()
            name = await self._pace()
            lease = self.leases.held().get(name)
            if not self._heap or lease is None:  # stay defensive
                self._claiming.release()
                continue
            # Popped only now: a call-out pushed while we waited goes before the advisory.
            item = heapq.heappop(self._heap)[-1]
            cost = segments.count(item.row["body"]).segments
            self._pacers[name].take(cost)  # settled when the provider answers
            turn = _Turn(name, lease.epoch, cost, time.monotonic(), self._pacers[name].mark())
            task = asyncio.create_task(self._send(item, turn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _held(self) -> list[str]:
        """The senders we may pace now. Each keeps its pacer for as long as we run, also while
        its lease lapses and is renewed: our own backlog at the carrier does not vanish with
        the lease (a fresh pacer on renewal would hand the carrier another tolerance's worth
        each time). A lease taken from another holder starts after the margin, when that
        holder's backlog has drained, so an old pacer of ours can only be behind, never ahead.
        """
        held = list(self.leases.held())
        for name in held:
            if name not in self._pacers:
                self._pacers[name] = SegmentPacer(
                    rate=self._settings.sender_mps,  # segments a second, as the carrier counts
                    tolerance_s=self._settings.pacing_tolerance_s,
                    clock=time.monotonic,
                )
        return held

    async def _pace(self) -> str:
        """Wait for the held sender that frees first (of those free, the least backlogged)."""
        while True:
            names = self._held()
            if not names:  # we hold no sender: others send, we keep the queue
                self.leases.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.leases.changed.wait(), 1.0)
                continue
            top = self._heap[0][-1] if self._heap else None
            avoid = top.row.get("avoid_sender") if top else None
            names = [n for n in names if n != avoid] or names  # re-routed: another if we can
            # Bulk keeps the carrier queue short; a call-out may use the whole tolerance, so
            # it goes now, to the sender whose carrier queue is shortest.
            # (never more than the call-outs' own: config says at most pacing_tolerance_s)
            bulk = bool(top and _bulk(top))
            pacers, s = self._pacers, self._settings
            keys = {
                n: (pacers[n].wait_time(tolerance_s=urgent_claims.slack(s, n, names, bulk)),
                    pacers[n].backlog_s())
                for n in names
            }
            best = min(names, key=keys.__getitem__)
            if keys[best][0] == 0:
                return best
            self._urgent.clear()  # a call-out queued while we wait for an advisory's turn
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(keys[best][0], 0.0005)):
                    await self._urgent.wait()

    def _refund(self, turn: _Turn) -> None:
        """A claim we lost sent nothing: the sender's slot goes to the next message."""
        self._pacers[turn.name].refund(turn.cost)
        # Wake _pace, which may be waiting out this very slot: else each row cancelled in
        # the heap (a stand-down, a recalled or expired campaign) still costs a whole slot.
        self._urgent.set()

    def _callback_url(self, item: Queued) -> str | None:
        if not (
            self._settings.status_callbacks and self._gateway.capabilities.supports_status_callback
        ):
            return None
        return f"{self._settings.public_url.rstrip('/')}/v1/webhooks/twilio/status?d={item.id}"

    async def _send(self, item: Queued, turn: _Turn) -> None:
        claiming = Once(self._claiming.release)
        answered = Once(partial(self._pacers[turn.name].settle, turn.taken_at))
        try:
            if await self._claim(item, turn):
                await self._request(item, turn, claiming, answered)
        except Exception as exc:  # the row stays claimed; reconciliation settles it
            log.exception("send bookkeeping failed", delivery=str(item.id), error=str(exc))
        finally:
            self._known.discard(item.id)
            self._known_seqs.discard(item.row["seq"])
            answered()
            claiming()

    async def _claim(self, item: Queued, turn: _Turn) -> bool:
        """Claim the row under our lease; False (and what to do instead) if it is not ours."""
        claims = self._claims if _bulk(item) else self._urgent_claims
        attempt = await claims.submit((item.id, turn.name, turn.epoch))
        if attempt is None or attempt == store.UNFENCED:
            self._refund(turn)
            self.stats["skipped" if attempt is None else "unfenced"] += 1
            if attempt == store.UNFENCED:  # still ours to send: once a lease holds again
                asyncio.get_running_loop().call_later(0.2, self.push, item)
            return False
        if not self.leases.valid(turn.name, turn.epoch):  # stalled past our lease
            await store.unclaim(self._pool, [item.id])
            self.stats["unclaimed"] += 1
            asyncio.get_running_loop().call_soon(self.push, item)  # after `finally`
            return False
        item.attempts = attempt
        return True

    async def _request(self, item: Queued, turn: _Turn, claiming: Once, answered: Once) -> None:
        """The HTTP request, in a request slot held for it alone; then the bookkeeping."""
        await self._inflight.acquire()
        slot = Once(self._inflight.release)
        claiming()
        self._pacers[turn.name].requested(turn.mark, turn.cost)  # on its way to the carrier
        sender = from_number(turn.name)
        sms = OutboundSms(
            to=item.row["phone"],
            body=item.row["body"],
            sender=sender,
            status_callback=self._callback_url(item),
            validity_s=self._validity_s,
        )
        try:
            try:
                result = await self._gateway.send(sms)
            finally:  # the provider answered (or not at all): the next request may go
                slot()
                answered()
        except GatewayError as exc:
            await self._after_error(item, exc)
            return
        self.stats["submitted"] += 1
        await self._submits.submit((item, sender, result.sid, result.status))

    async def _after_error(self, item: Queued, exc: GatewayError) -> None:
        if exc.ambiguous:  # maybe sent: leave it claimed for the reconciler, never resend blind
            self.stats["ambiguous"] += 1
            log.warning("ambiguous send; will reconcile", delivery=str(item.id), error=exc.message)
            return
        if (
            is_retryable(status=exc.status, code=exc.code)
            and item.attempts < self._policy.max_attempts
        ):
            self.stats[f"retry_{exc.code or exc.status}"] += 1
            delay = self._policy.delay(item.attempts, self._rng)
            await store.retry_later(self._pool, item=item, delay_s=delay, code=exc.code)
            asyncio.get_running_loop().call_later(delay, self.push, item)
            return
        self.stats[f"failed_{exc.code}"] += 1
        await store.failed(self._pool, item=item, code=exc.code, reason=exc.message)


def _bulk(item: Queued) -> bool:
    return is_bulk(int(item.row["priority"]))


@dataclass(frozen=True)
class _Turn:
    """The sender (lease name and epoch) a message was paced on, and what it cost there."""

    name: str
    epoch: int
    cost: int
    taken_at: float  # monotonic, when the pacer timed it
    mark: int  # its place in the sender's line (SegmentPacer.requested)
