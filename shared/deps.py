"""The database types and FastAPI dependencies every service's routes use, defined once.

`PgConn`/`PgPool` are for signatures (asyncpg's classes are generic only to type checkers);
`Conn`/`Pool` are FastAPI dependencies (Annotated aliases) reading the app's `Runtime`, which the
lifespan puts in `app.state.runtime`. A service's settings alias is one line:

    Settings = Annotated[RegistrySettings, Depends(app_settings)]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import asyncpg
from fastapi import Depends, Request

if TYPE_CHECKING:
    PgConn: TypeAlias = asyncpg.Connection[Any]
    PgPool: TypeAlias = asyncpg.Pool[Any]
else:  # at run time the classes are not subscriptable
    PgConn = asyncpg.Connection
    PgPool = asyncpg.Pool


# async, though they only read app.state: FastAPI runs a plain `def` dependency in a worker
# thread, two thread hops on every request.
async def app_pool(request: Request) -> PgPool:
    """The service's connection pool."""
    pool: PgPool = request.app.state.runtime.pool
    return pool


async def app_conn(request: Request) -> AsyncIterator[PgConn]:
    """A pooled connection for the length of the request."""
    async with request.app.state.runtime.pool.acquire() as conn:
        yield conn


async def app_settings(request: Request) -> Any:
    """The settings the app was built with (typed by the service's own alias)."""
    return request.app.state.settings


Pool = Annotated[PgPool, Depends(app_pool)]
Conn = Annotated[PgConn, Depends(app_conn)]
