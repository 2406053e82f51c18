"""A running dispatcher per test module, on the real broker and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from baiying_dispatcher.app import create_app
from baiying_dispatcher.config import DispatcherSettings
from baiying_shared.auth import Role, mint_token
from baiying_shared.db.pool import create_pool
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.kafka.producer import make_producer
from tests.conftest import Infra, settings_for
from tests.dispatcher.support import CalloutTap, publish_volunteers
from tests.support import eventually, serving


@dataclass
class System:
    settings: DispatcherSettings
    url: str
    pool: asyncpg.Pool[Any]
    producer: AIOKafkaProducer
    tap: CalloutTap

    def token(self, role: Role, *districts: str, sub: str | None = None) -> dict[str, str]:
        t = mint_token(self.settings, sub=sub or f"{role}-{'-'.join(districts)}", role=role,
                       districts=list(districts))
        return {"Authorization": f"Bearer {t}"}

    def client(self, role: Role = "duty_desk", *districts: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10,
                                 headers=self.token(role, *(districts or ("360702",))))

    async def add_volunteers(self, snaps: list[VolunteerSnapshot]) -> None:
        """Publish as the registry would, and wait until the index holds them."""
        await publish_volunteers(self.producer, self.settings, snaps)
        ids = [s.volunteer_id for s in snaps]
        await eventually(
            lambda: self.pool.fetchval(
                "SELECT count(*) = $2 FROM responders WHERE volunteer_id = ANY($1::uuid[])",
                ids, len(ids)),
            timeout=30, what="volunteers indexed",
        )


def dispatcher_settings(infra: Infra, database_url: str, **extra: Any) -> DispatcherSettings:
    extra.setdefault("dispatch_round_wait_s", 60.0)
    extra.setdefault("dispatch_tick_s", 0.2)
    # Tests spread incidents ~30 km apart over the whole map (support.fresh_area) so they
    # never meet; test_gazetteer_area checks the refusal with the real margin.
    extra.setdefault("dispatch_service_margin_m", 1_000_000)
    return settings_for(  # type: ignore[no-any-return]
        DispatcherSettings, infra=infra, database_url=database_url,
        prefix=f"d{uuid.uuid4().hex[:8]}.", db_pool_max=5, **extra,
    )


@pytest.fixture(scope="module")
async def system(infra: Infra, database_url: str) -> AsyncIterator[System]:
    async with running_system(dispatcher_settings(infra, database_url)) as s:
        yield s


@asynccontextmanager
async def running_system(settings: DispatcherSettings) -> AsyncIterator[System]:
    """A served dispatcher with a pool, a producer and a tap on its call-outs."""
    async with serving(create_app(settings)) as url:
        pool = await create_pool(settings, schema="dispatcher")
        producer = make_producer(settings, client_id="test")
        await producer.start()
        tap = CalloutTap(settings)
        await tap.start()
        try:
            yield System(settings, url, pool, producer, tap)
        finally:
            await tap.stop()
            await producer.stop()
            await pool.close()
