"""Many (when, sid) wake-ups on one event-loop timer.

The carrier settles every message through two fixed delays (sending -> sent -> delivered)
and may expire queued ones; a TimerHandle each is a heap push and an object per message on
the loop, so these share one heap and one armed timer, firing every due entry at once.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

# Entries due within this of the one that woke the timer fire with it: at thousands of
# messages a second one wake-up then settles many, instead of one loop timer each.
TICK_S = 0.002


class Timers:
    """Many (when, sid) wake-ups on one loop timer: a heap instead of a TimerHandle each."""

    def __init__(self, fire: Callable[[str], None]) -> None:
        self._fire, self._heap, self._seq = fire, list[tuple[float, int, str]](), itertools.count()
        self._armed: asyncio.TimerHandle | None = None
        self._armed_at = 0.0  # uvloop's TimerHandle has no when()

    def at(self, when: float, sid: str) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), sid))
        if self._armed is None or when < self._armed_at:
            self._arm(when)

    def clear(self) -> None:
        self._heap.clear()
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None

    def _arm(self, when: float) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed, self._armed_at = asyncio.get_running_loop().call_at(when, self._due), when

    def _due(self) -> None:
        self._armed = None
        now = asyncio.get_running_loop().time()
        try:
            while self._heap and self._heap[0][0] <= now + TICK_S:
                self._fire(heapq.heappop(self._heap)[2])
        finally:  # one failing wake-up must not strand the rest
            if self._heap:
                self._arm(self._heap[0][0])
