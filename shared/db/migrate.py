"""Versioned SQL migrations per service schema; re-running applies nothing twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

from baiying_shared.logging import get_logger

log = get_logger(__name__)

BASE_PACKAGE = "baiying_shared.db"  # outbox and inbox tables every schema gets first


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


def load(package: str) -> list[Migration]:
    """The package's migrations/*.sql, in file-name order."""
    folder = resources.files(package).joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(dsn: str, *, schema: str, package: str) -> list[str]:
    """Apply the shared base and the service's migrations to `schema`; return what ran."""
    conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    try:
        lock = int.from_bytes(hashlib.sha1(schema.encode()).digest()[:8], "big", signed=True)
        await conn.execute("SELECT pg_advisory_lock($1)", lock)  # two migrators never race
        try:
            base = load(BASE_PACKAGE)
            extra = load(package) if package != BASE_PACKAGE else []
            return await _apply(conn, schema, [*base, *extra])
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock)
    finally:
        await conn.close()


async def _apply(
    conn: asyncpg.Connection[Any], schema: str, migrations: list[Migration]
) -> list[str]:
    await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    await conn.execute(f'SET search_path TO "{schema}", public')
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    applied = []
    for m in migrations:
        if m.version in done:
            continue
        async with conn.transaction():
            await conn.execute(m.sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", m.version)
        log.info("migration applied", schema=schema, version=m.version)
        applied.append(m.version)
    return applied
