"""GroupCommit: waiting items share one transaction, each caller answered only after COMMIT,
and a failing item (or a commit that fails) fails only its own caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from baiying_shared.db.pool import GroupCommit, create_pool
from baiying_shared.settings import CommonSettings

# A deferred constraint trigger fails COMMIT itself (not a statement) for the item 'poison'.
_SCHEMA = """
CREATE TABLE rows (item text PRIMARY KEY, txid bigint NOT NULL);
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.item = 'poison' THEN RAISE EXCEPTION 'poison refused at commit'; END IF;
  RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON rows DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


@pytest.fixture
async def pool(common_settings: CommonSettings, unique: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    schema = f"gc_{unique}"
    p = await create_pool(common_settings, schema=schema)
    await p.execute(f"CREATE SCHEMA {schema}; SET search_path = {schema}; {_SCHEMA}")
    try:
        yield p
    finally:
        await p.execute(f"DROP SCHEMA {schema} CASCADE")
        await p.close()


class Gated:
    """Work whose first item waits for `gate`, so the items submitted meanwhile queue."""

    def __init__(self) -> None:
        self.started, self.gate = asyncio.Event(), asyncio.Event()

    async def __call__(self, conn: Any, item: str) -> int:
        if item == "first":
            self.started.set()
            await self.gate.wait()
        if item == "raises":
            raise ValueError("this item's own failure")
        if item == "blocked":  # waits for a row lock another session holds
            await conn.execute("SELECT 1 FROM rows WHERE item = 'held' FOR UPDATE")
        return int(await conn.fetchval(
            "INSERT INTO rows (item, txid) VALUES ($1, txid_current()) RETURNING txid", item))


async def _queued_behind_first(pool: asyncpg.Pool[Any], items: list[str]
                               ) -> tuple[GroupCommit[str, int], list[Any]]:
    work = Gated()
    batch = GroupCommit(pool, work, in_flight=1)
    first = asyncio.ensure_future(batch.submit("first"))
    await work.started.wait()
    rest = [asyncio.ensure_future(batch.submit(i)) for i in items]
    work.gate.set()  # the queued submissions run first (FIFO), then the first batch commits
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    return batch, results


async def _committed(pool: asyncpg.Pool[Any]) -> dict[str, int]:
    return {r["item"]: r["txid"] for r in await pool.fetch("SELECT item, txid FROM rows")}


async def test_items_waiting_for_a_batch_share_the_next_transaction(
    pool: asyncpg.Pool[Any]
) -> None:
    items = [f"item{i}" for i in range(10)]
    batch, results = await _queued_behind_first(pool, items)
    assert batch.sizes == [1, 10]
    first_tx, *rest_tx = results
    assert len(set(rest_tx)) == 1 and rest_tx[0] != first_tx
    assert await _committed(pool) == dict(zip(["first", *items], results, strict=True))


async def test_each_caller_is_answered_only_after_its_commit(pool: asyncpg.Pool[Any]) -> None:
    batch = GroupCommit(pool, Gated())

    async def one(item: str) -> bool:
        await batch.submit(item)
        return item in await _committed(pool)  # visible to another session already

    assert all(await asyncio.gather(*(one(f"c{i}") for i in range(30))))


@pytest.mark.parametrize("bad", ["raises", "poison"])
async def test_a_failing_item_or_commit_fails_only_its_caller(
    pool: asyncpg.Pool[Any], bad: str
) -> None:
    items = ["a", "b", bad, "c"]
    _, results = await _queued_behind_first(pool, items)
    failed = results[1 + items.index(bad)]
    assert isinstance(failed, asyncpg.PostgresError if bad == "poison" else ValueError)
    assert [r for r in results if isinstance(r, BaseException)] == [failed]
    assert set(await _committed(pool)) == {"first", "a", "b", "c"}


async def test_a_batch_waiting_on_a_lock_gives_up_and_goes_one_by_one(
    pool: asyncpg.Pool[Any]
) -> None:
    await pool.execute("INSERT INTO rows VALUES ('held', 0)")
    holder = await pool.acquire()
    tx = holder.transaction()
    await tx.start()
    await holder.execute("SELECT 1 FROM rows WHERE item = 'held' FOR UPDATE")
    work = Gated()
    batch = GroupCommit(pool, work, order=str, in_flight=1, lock_timeout_ms=50)  # a first
    first = asyncio.ensure_future(batch.submit("first"))
    await work.started.wait()
    free, blocked = asyncio.ensure_future(batch.submit("a")), asyncio.ensure_future(
        batch.submit("blocked"))
    work.gate.set()
    await first
    await free  # committed alone while the lock is still held: the batch did not wait for it
    assert not blocked.done() and "a" in await _committed(pool)
    await tx.rollback()
    await pool.release(holder)
    await blocked  # alone, it waits for the lock as long as it takes
    assert set(await _committed(pool)) == {"held", "first", "a", "blocked"}
