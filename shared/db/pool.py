"""asyncpg pools bound to one service's schema.

Releasing a connection normally costs a round trip: asyncpg's reset runs
`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` every time (11 % of the
notifier's samples under a reply flood). Most connections never touch session state, so the
pool's connections note whether they did (a listener, a session advisory lock, a session SET,
a cursor WITH HOLD, …) and only those pay for the full reset; an open transaction is always
rolled back and Python-side listeners always dropped by asyncpg itself before the hook runs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

import asyncpg

from baiying_shared.logging import get_logger
from baiying_shared.settings import CommonSettings

log = get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# SQL that leaves state in the session beyond its transaction; anything matching marks the
# connection for the full reset. Deliberately broad: a false positive costs one round trip.
_SESSION_STATE = re.compile(
    r"advisory_lock|\bLISTEN\b|(^|;)\s*(SET(?!\s+LOCAL\b)|RESET|DISCARD|DECLARE)\b|set_config"
    r"|\bWITH\s+HOLD\b"
    r"|\bPREPARE\b|\bLOAD\b",
    re.IGNORECASE,
)


# Settings of every service connection (also for scripts connecting on their own).
SERVER_SETTINGS = {"jit": "off"}


# Queries are nearly all constant strings: remember the answer rather than run the regex on
# every execute (it was 6 % of the notifier's samples during a fan-out).
@functools.lru_cache(maxsize=2048)
def _leaves_session_state(query: str) -> bool:
    return _SESSION_STATE.search(query) is not None


class TrackedConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped here
    """A connection that remembers whether it left session state behind (see module doc)."""

    session_state = False

    def note(self, query: str) -> None:
        if not self.session_state and _leaves_session_state(query):
            self.session_state = True

    async def add_listener(self, channel: str, callback: Any) -> None:
        self.session_state = True
        await super().add_listener(channel, callback)

    def add_log_listener(self, callback: Any) -> None:
        self.session_state = True
        super().add_log_listener(callback)


def _noting(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    base = getattr(asyncpg.Connection, name)

    async def method(self: TrackedConnection, query: str, *args: Any, **kwargs: Any) -> Any:
        self.note(query)
        return await base(self, query, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = base.__doc__
    return method


for _name in ("execute", "executemany", "fetch", "fetchval", "fetchrow", "fetchmany", "prepare"):
    setattr(TrackedConnection, _name, _noting(_name))


async def reset_if_needed(conn: asyncpg.Connection[Any]) -> None:
    """The pool's reset hook: the full reset query only for a connection that needs it."""
    if getattr(conn, "session_state", True):
        if query := conn.get_reset_query():
            await conn.execute(query)
        conn.session_state = False


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            encoder=lambda v: json.dumps(v, ensure_ascii=False, default=str),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def create_pool(settings: CommonSettings, *, schema: str) -> asyncpg.Pool[Any]:
    """A pool whose search_path is the service's own schema (then public, for PostGIS)."""
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=reset_if_needed,
        connection_class=TrackedConnection,
        server_settings={
            "search_path": f"{schema},public",
            "application_name": f"baiying-{schema}",
            # JIT never pays for the services' queries of milliseconds, yet a wide selection
            # ring's cost estimate can cross jit_above_cost and compiling once took 360-410 ms
            # (docs/performance.md). Off for the session here, not by a SET per transaction:
            # that cost the raise path 2-3 round trips and the pool's full reset.
            **SERVER_SETTINGS,
        },
        command_timeout=30,
    )
    assert pool is not None
    return pool


def own_if_free(own: asyncpg.Pool[Any] | None, shared: asyncpg.Pool[Any]) -> asyncpg.Pool[Any]:
    """Where a call-out's work takes its connection: its own small pool when a connection is
    free there, else a free shared one, else it waits for its own. Its own alone would run
    several call-outs' work one after another; the shared alone waits behind an advisory's."""
    if own is None or (own.get_idle_size() == 0 and shared.get_idle_size() > 0):
        return shared
    return own


class GroupCommit(Generic[T, R]):
    """Many callers' small transactions committed as one (group commit).

    `submit(item)` queues the item and returns `work(conn, item)`'s result once the
    transaction that ran it has COMMITTED: a caller never sees success before its row is
    durable. Items arriving while `in_flight` batches are running wait and go together in the
    next one (at most `max_batch`), so under load one BEGIN/COMMIT (and one NOTIFY flush)
    serves many, and alone an item runs at once. Items run in `order` (a lock order shared by
    every batch). If the batch fails, each of its items is retried in a transaction of its
    own, so one bad item (or a commit that fails) fails only its own caller. A batch holds
    its rows' locks until its commit, so where other transactions lock the same rows in
    another order it could deadlock (PostgreSQL finds that only after deadlock_timeout, 1 s):
    a batch waits at most `lock_timeout_ms` for a lock, then goes the one-by-one way.
    `work_many(conn, items)`, if given, runs a batch of two or more at once (set-based
    statements); it must return what `work` would for each item, in order, one by one.
    """

    def __init__(self, pool: asyncpg.Pool[Any], work: Callable[[Any, T], Awaitable[R]], *,
                 order: Callable[[T], Any] = id, in_flight: int = 2, max_batch: int = 256,
                 lock_timeout_ms: int = 50,
                 work_many: Callable[[Any, list[T]], Awaitable[list[R]]] | None = None) -> None:
        self._pool, self._work, self._order, self._max = pool, work, order, max_batch
        self._work_many = work_many
        self._lock_timeout = f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'"
        self._slots = asyncio.Semaphore(in_flight)
        self._open: list[tuple[T, asyncio.Future[R]]] = []
        self._leaders: set[asyncio.Task[None]] = set()
        self.sizes: list[int] = []  # each committed batch's size, newest last (for tests)

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._open.append((item, done))
        if len(self._open) == 1:
            self._lead()
        return await asyncio.shield(done)  # a caller gone does not cancel the others' batch

    def _lead(self) -> None:
        task = asyncio.create_task(self._next_batch())
        self._leaders.add(task)
        task.add_done_callback(self._leaders.discard)

    async def _next_batch(self) -> None:
        async with self._slots:
            batch, self._open = self._open[: self._max], self._open[self._max :]
            if self._open:
                self._lead()
            batch.sort(key=lambda pair: self._order(pair[0]))
            try:
                await self._run(batch)
            finally:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(RuntimeError("group commit abandoned"))

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if len(batch) > 1:
                    await conn.execute(self._lock_timeout)
                if self._work_many is not None and len(batch) > 1:
                    results = await self._work_many(conn, [item for item, _ in batch])
                else:
                    results = [await self._work(conn, item) for item, _ in batch]
        except Exception:
            log.warning("group commit failed; retrying its items one by one", size=len(batch))
            for item, done in batch:
                await self._alone(item, done)
            return
        self.sizes.append(len(batch))
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def _alone(self, item: T, done: asyncio.Future[R]) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                result = await self._work(conn, item)
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
            return
        self.sizes.append(1)
        if not done.done():
            done.set_result(result)
