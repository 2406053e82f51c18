"""Live changes for the consoles: PostgreSQL NOTIFY (sent at commit) fanned out to SSE clients.

LISTEN works across processes, so every dispatcher instance streams every committed change,
and a rolled-back change is never streamed. Each subscriber sees only its districts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import asyncpg

from baiying_dispatcher.outbound import CHANGES_CHANNEL, EXACT
from baiying_shared.logging import get_logger

log = get_logger(__name__)

QUEUE_SIZE = 1000


def _scope(districts: Sequence[str] | None) -> frozenset[str] | None:
    return None if districts is None else frozenset(districts)


class Subscription:
    """One SSE client's queue, the districts it may see (None = all), and those whose desk it
    is (exact points of people on the way; empty for supervisors)."""

    def __init__(
        self, districts: list[str] | None, desk_of: Sequence[str] | None = ()
    ) -> None:
        self.districts = _scope(districts)
        self.desk_of = _scope(desk_of)
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)

    def admits(self, notice: dict[str, Any]) -> bool:
        if self.districts is None:
            return True
        seen = {notice.get("district"), *notice.get("districts", ())}
        return not self.districts.isdisjoint(seen)

    def view(self, notice: dict[str, Any]) -> dict[str, Any]:
        """The notice as this client may read it: the exact point only for the desk."""
        exact = notice.get(EXACT)
        if exact is None:
            return notice
        out = {k: v for k, v in notice.items() if k != EXACT}
        if self.desk_of is None or notice.get("district") in self.desk_of:
            out.update(exact)
        return out


class ChangeHub:
    """Holds one LISTEN connection and hands each notice to the subscribers allowed to see it."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._subs: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._supervise(), name="change-hub")
        return self._task

    @contextlib.contextmanager
    def subscribe(
        self, districts: list[str] | None, desk_of: Sequence[str] | None = ()
    ) -> Iterator[Subscription]:
        sub = Subscription(districts, desk_of)
        self._subs.add(sub)
        try:
            yield sub
        finally:
            self._subs.discard(sub)

    def publish(self, notice: dict[str, Any]) -> None:
        for sub in list(self._subs):
            if not sub.admits(notice):
                continue
            try:
                sub.queue.put_nowait(sub.view(notice))
            except asyncio.QueueFull:  # a stalled client is cut off, not allowed to grow memory
                self._subs.discard(sub)
                with contextlib.suppress(asyncio.QueueEmpty):
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    def _on_notify(self, _c: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.publish(json.loads(payload))
        except ValueError:
            log.warning("bad change notice", payload=payload[:200])

    async def _supervise(self) -> None:
        """Keep listening through database restarts."""
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("change listener lost; reconnecting", error=str(exc))
            self.listening.clear()
            await asyncio.sleep(1)

    async def _listen(self) -> None:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(self._dsn)
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_lost(_c: object) -> None:
            if not lost.done():
                lost.set_result(None)

        conn.add_termination_listener(on_lost)
        try:
            await conn.add_listener(CHANGES_CHANNEL, self._on_notify)
            self.listening.set()
            await lost
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)


async def sse(sub: Subscription, *, keepalive_s: float = 15.0) -> AsyncIterator[bytes]:
    """Server-sent events from a subscription, with comments to keep proxies from idling out."""
    yield b": connected\n\n"
    while True:
        try:
            notice = await asyncio.wait_for(sub.queue.get(), keepalive_s)
        except TimeoutError:
            yield b": keepalive\n\n"
            continue
        if notice is None:
            return  # cut off for being too slow; the browser's EventSource reconnects
        data = json.dumps(notice, ensure_ascii=False)
        yield f"event: {notice.get('type', 'change')}\ndata: {data}\n\n".encode()
