"""Coalesce many small database writes into one round trip, without delaying a lone write much;
and a release done at most once, whichever path gets there."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`await submit(item)` returns that item's result from `flush(items) -> results`.

    `eager`: an item arriving while no flush is in flight is flushed at once (an idle
    sender's first claim waits for nothing); while one is in flight, items gather for up to
    `max_wait_s` (or `max_items`) as usual.
    """

    def __init__(
        self,
        flush: Callable[[list[T]], Awaitable[list[R]]],
        *,
        max_items: int = 200,
        max_wait_s: float = 0.005,
        eager: bool = False,
    ) -> None:
        self._flush, self._max, self._wait, self._eager = flush, max_items, max_wait_s, eager
        self._items: list[tuple[T, asyncio.Future[R]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()  # strong refs until each flush ends

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        if len(self._items) >= self._max or (self._eager and not self._running):
            self._drain()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._wait, self._drain)
        return await future

    def _drain(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._items = self._items, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except Exception as exc:  # every waiter learns the batch failed
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class Once:
    """A release (a slot, the pacer's account) done at most once, whichever path gets there."""

    def __init__(self, release: Callable[[], object]) -> None:
        self._release: Callable[[], object] | None = release

    def __call__(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()
