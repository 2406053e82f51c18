"""asyncpg pools bound to one service's schema."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from baiying_shared.settings import CommonSettings


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
        server_settings={
            "search_path": f"{schema},public",
            "application_name": f"baiying-{schema}",
        },
        command_timeout=30,
    )
    assert pool is not None
    return pool
