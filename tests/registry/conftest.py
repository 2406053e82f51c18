"""A running registry per test module, in its own schema and topic prefix."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from baiying_registry.app import create_app
from baiying_registry.config import RegistrySettings
from baiying_shared.auth import Role, mint_token
from baiying_shared.db.pool import create_pool
from tests.conftest import Infra, settings_for
from tests.support import serving

_numbers = itertools.count(random.randrange(10**7))


def new_phone() -> str:
    """A valid mainland mobile no other test in this run uses (outside the demo block)."""
    return f"+86139{next(_numbers) % 10**8:08d}"


def registry_settings(infra: Infra, database_url: str, **extra: Any) -> RegistrySettings:
    tag = uuid.uuid4().hex[:8]
    return settings_for(  # type: ignore[no-any-return]
        RegistrySettings, infra=infra, database_url=database_url, prefix=f"r{tag}.",
        db_schema=f"reg_{tag}", db_pool_max=4, **extra,
    )


@dataclass
class Registry:
    settings: RegistrySettings
    url: str
    pool: asyncpg.Pool[Any]

    def headers(self, role: Role = "admin", *districts: str, volunteer_id: uuid.UUID | None = None
                ) -> dict[str, str]:
        token = mint_token(self.settings, sub=f"{role}-test", role=role,
                           districts=list(districts) or (["*"] if role == "admin" else []),
                           volunteer_id=volunteer_id)
        return {"Authorization": f"Bearer {token}"}

    def client(self, role: Role = "admin", *districts: str) -> httpx.AsyncClient:
        headers = self.headers(role, *districts)
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers=headers)

    async def team(self, district: str = "360702", type_: str = "patrol") -> dict[str, Any]:
        async with self.client() as c:
            r = await c.post("/v1/teams", json={"name": f"{district}测试队", "type": type_,
                                                "district": district})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def volunteer(self, team: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"name": "刘海燕", "phone": new_phone(), "team_id": team["id"],
                "home": {"lat": 25.82, "lon": 114.93}, **fields}
        async with self.client() as c:
            r = await c.post("/v1/volunteers", json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


@asynccontextmanager
async def running_registry(settings: RegistrySettings) -> AsyncIterator[Registry]:
    """The registry app served on `settings`, with a pool on its schema."""
    async with serving(create_app(settings)) as url:
        pool = await create_pool(settings, schema=settings.db_schema)
        try:
            yield Registry(settings, url, pool)
        finally:
            await pool.close()


@pytest.fixture(scope="module")
async def registry(infra: Infra, database_url: str) -> AsyncIterator[Registry]:
    settings = registry_settings(infra, database_url, import_max_bytes=64 * 1024)
    async with running_registry(settings) as registry:
        yield registry
