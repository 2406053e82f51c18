"""The call-out lane's intake on connections of its own: with the shared pool all taken (an
advisory's callbacks, submits, bulk intake), a call-out's row is still written at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_notifier import intake
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.callouts import TOPIC
from baiying_shared.events.envelope import wrap
from baiying_shared.kafka.consumer import Message
from baiying_shared.settings import CommonSettings
from tests.notifier.harness import issued


@pytest.fixture
async def pools(
    common_settings: CommonSettings, unique: str
) -> AsyncIterator[tuple[asyncpg.Pool[Any], asyncpg.Pool[Any]]]:
    """A one-connection shared pool and a one-connection own pool on a schema of this test's."""
    schema = f"nio_{unique}"
    await migrate(common_settings.database_url.get_secret_value(), schema=schema,
                  package="baiying_notifier")  # fmt: skip
    one = common_settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1})
    shared, own = await create_pool(one, schema=schema), await create_pool(one, schema=schema)
    try:
        yield shared, own
    finally:
        await shared.close()
        await own.close()


def _poll(phone: str) -> list[Message]:
    env = wrap(issued(phone=phone), producer="dispatcher")
    return [Message(TOPIC, 0, 0, str(env.payload.volunteer_id), env)]


async def _rows(pool: asyncpg.Pool[Any], phone: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM deliveries WHERE phone = $1", phone))


async def test_a_callout_is_written_while_the_shared_pool_is_all_taken(
    pools: tuple[asyncpg.Pool[Any], asyncpg.Pool[Any]],
) -> None:
    shared, own = pools
    undo = intake.own_pool(shared, own)
    try:
        async with shared.acquire():  # every shared connection busy with bulk work
            await asyncio.wait_for(intake.on_urgent_batch(shared, _poll("+8613700000011")), 10)
    finally:
        undo()
    assert await _rows(shared, "+8613700000011") == 1


async def test_control_without_its_own_pool_it_waits_for_a_shared_connection(
    pools: tuple[asyncpg.Pool[Any], asyncpg.Pool[Any]],
) -> None:
    shared, _ = pools
    async with shared.acquire():
        task = asyncio.create_task(intake.on_urgent_batch(shared, _poll("+8613700000012")))
        done, _ = await asyncio.wait([task], timeout=1.0)
        assert not done, "with no connection of its own the call-out waits behind bulk work"
    await asyncio.wait_for(task, 10)  # and goes once a shared connection is free
    assert await _rows(shared, "+8613700000012") == 1


async def test_the_bulk_lane_stays_on_the_shared_pool(
    pools: tuple[asyncpg.Pool[Any], asyncpg.Pool[Any]],
) -> None:
    shared, own = pools
    undo = intake.own_pool(shared, own)
    try:
        async with own.acquire():  # the call-out lane's connection taken: bulk does not care
            await asyncio.wait_for(intake.on_batch(shared, _poll("+8613700000013")), 10)
    finally:
        undo()
    assert await _rows(shared, "+8613700000013") == 1
