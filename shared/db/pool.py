"""asyncpg pools bound to one service's schema.

Releasing a connection normally costs a round trip: asyncpg's reset runs
`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` every time (11 % of the
notifier's samples under a reply flood). Most connections never touch session state, so the
pool's connections note whether they did (a listener, a session advisory lock, a session SET,
a cursor WITH HOLD, …) and only those pay for the full reset; an open transaction is always
rolled back and Python-side listeners always dropped by asyncpg itself before the hook runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from baiying_shared.settings import CommonSettings

# SQL that leaves state in the session beyond its transaction; anything matching marks the
# connection for the full reset. Deliberately broad: a false positive costs one round trip.
_SESSION_STATE = re.compile(
    r"advisory_lock|\bLISTEN\b|(^|;)\s*(SET|RESET|DISCARD|DECLARE)\b|set_config|\bWITH\s+HOLD\b"
    r"|\bPREPARE\b|\bLOAD\b",
    re.IGNORECASE,
)


class TrackedConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped here
    """A connection that remembers whether it left session state behind (see module doc)."""

    session_state = False

    def note(self, query: str) -> None:
        if not self.session_state and _SESSION_STATE.search(query):
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
        },
        command_timeout=30,
    )
    assert pool is not None
    return pool
