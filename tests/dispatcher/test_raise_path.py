"""The raise's transaction: each table written in one statement, nothing visible before commit.

A raise is on the path to the first SMS: the relay can only publish once it commits, so it
takes no savepoint, does not read back the row it has just inserted, writes its audit row
with the incident and all its call-outs in one statement.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher import incidents, repo
from baiying_dispatcher.domain import Need
from baiying_dispatcher.mobilisation.commands import unit_of_work
from baiying_shared.auth import Principal
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_mobilisation import incident_body

DESK = Principal(sub="raise-path-desk", role="duty_desk", districts=("360702",))


def _cmd(lat: float, lon: float, *, kind: str = "callout", need: int = 2
         ) -> incidents.NewIncident:
    return incidents.NewIncident(
        kind=kind, title="路径测试", description="", category="test", address="章贡区",
        area=None, district="360702", lat=lat, lon=lon, radius_m=2000,
        need=Need(total=need if kind == "callout" else 0), policy=None,
        advice="注意" if kind == "advisory" else None, target_districts=None)


@asynccontextmanager
async def statements(conn: asyncpg.Connection[Any]) -> AsyncIterator[list[str]]:
    """Every statement `conn` sends while the block runs, whitespace folded."""
    seen: list[str] = []
    with conn.query_logger(lambda q: seen.append(" ".join(q.query.split()))):
        yield seen
        # asyncpg hands each record to the logger with loop.call_soon: one turn of the loop
        # runs those already queued (the block's last statements), none is left to come.
        await asyncio.sleep(0)


def _writes(seen: list[str], table: str) -> list[str]:
    return [q for q in seen if re.search(rf"\b(INSERT INTO|UPDATE) {table}\b", q)]


async def _crowd(system: System, n: int = 4) -> tuple[float, float]:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 100.0 * (i + 1)) for i in range(n)])
    return area.lat, area.lon


async def _raise(system: System, cmd: incidents.NewIncident, seen_out: list[str] | None = None,
                 ) -> repo.Incident:
    async with system.pool.acquire() as conn, conn.transaction():
        async with statements(conn) as seen:
            made = await incidents.insert_and_call(
                conn, settings=system.settings, principal=DESK, cmd=cmd,
                idempotency_key=uuid.uuid4().hex, now=datetime.now(UTC),
                audit=repo.AuditEntry(DESK.sub, DESK.role, "raise", {"title": cmd.title}))
        if seen_out is not None:
            seen_out += seen
    assert made is not None
    return made


async def test_a_raise_writes_each_table_in_one_statement(system: System) -> None:
    lat, lon = await _crowd(system)
    seen: list[str] = []
    made = await _raise(system, _cmd(lat, lon), seen)
    assert not [q for q in seen if q.startswith(("SAVEPOINT", "RELEASE"))], seen
    assert not [q for q in seen if "FOR UPDATE" in q and "FROM incidents" in q], seen
    (insert,) = [q for q in _writes(seen, "incidents") if q.startswith("WITH made")]
    assert "INSERT INTO audit_log" in insert  # the audit row travels with the incident
    assert not [q for q in seen if q.startswith("INSERT INTO audit_log")]
    assert len(_writes(seen, "callouts")) == 1
    # first_callout_at rides on the call-outs' statement: no UPDATE of its own.
    assert not [q for q in seen if q.startswith("UPDATE incidents")], seen
    assert await system.pool.fetchval(
        "SELECT first_callout_at IS NOT NULL FROM incidents WHERE id = $1", made.id)
    assert not [q for q in seen if q.startswith("SELECT") and "FROM callouts" in q
                and "jsonb_to_recordset" not in q and "LEFT JOIN" not in q], seen
    rows = await system.pool.fetch(
        "SELECT rank, skills, channels, state FROM callouts WHERE incident_id = $1"
        " ORDER BY rank", made.id)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]  # need 2, called twice over
    assert all(r["state"] == "pending" and list(r["channels"]) for r in rows)
    audit = await system.pool.fetch(
        "SELECT action, actor FROM audit_log WHERE incident_id = $1", made.id)
    assert [(a["action"], a["actor"]) for a in audit] == [("raise", DESK.sub)]


async def test_the_events_and_audit_exist_only_after_commit(system: System) -> None:
    lat, lon = await _crowd(system)
    async with system.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        made = await incidents.insert_and_call(
            conn, settings=system.settings, principal=DESK, cmd=_cmd(lat, lon),
            idempotency_key=None, now=datetime.now(UTC),
            audit=repo.AuditEntry(DESK.sub, DESK.role, "raise", {}))
        assert made is not None
        ids = [str(r[0]) for r in await conn.fetch(
            "SELECT volunteer_id FROM callouts WHERE incident_id = $1", made.id)]

        async def outside() -> tuple[int, int]:
            events = await system.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE key = ANY($1::text[])", ids)
            audit = await system.pool.fetchval(
                "SELECT count(*) FROM audit_log WHERE incident_id = $1", made.id)
            return int(events), int(audit)

        assert len(ids) == 4 and await outside() == (0, 0)
        await tx.commit()
    assert await outside() == (4, 1)


async def test_an_advisory_writes_its_audience_in_one_statement(system: System) -> None:
    lat, lon = await _crowd(system, n=3)
    seen: list[str] = []
    made = await _raise(system, _cmd(lat, lon, kind="advisory"), seen)
    assert len(_writes(seen, "callouts")) == 1
    ranks = await system.pool.fetch(
        "SELECT rank, distance_m FROM callouts WHERE incident_id = $1 ORDER BY rank", made.id)
    assert [r["rank"] for r in ranks] == [1, 2, 3]
    assert [r["distance_m"] for r in ranks] == sorted(r["distance_m"] for r in ranks)


async def test_a_joining_unit_of_work_needs_an_open_transaction_and_takes_no_savepoint(
    system: System,
) -> None:
    async with system.pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="open transaction"):
            async with unit_of_work(conn, system.settings, join=True):
                pass
        async with conn.transaction():
            async with statements(conn) as seen:
                async with unit_of_work(conn, system.settings, join=True):
                    pass
            assert seen == []
            async with statements(conn) as seen:
                async with unit_of_work(conn, system.settings):
                    pass
            assert [q.split()[0] for q in seen] == ["SAVEPOINT", "RELEASE"]


async def test_an_error_after_the_insert_leaves_no_incident(system: System) -> None:
    lat, lon = await _crowd(system, n=1)
    title = f"回滚{uuid.uuid4().hex[:6]}"
    async with system.pool.acquire() as conn:
        with pytest.raises(ZeroDivisionError):
            async with conn.transaction():
                await incidents.insert_and_call(
                    conn, settings=system.settings, principal=DESK,
                    cmd=incidents.NewIncident(**{**_cmd(lat, lon).__dict__, "title": title}),
                    idempotency_key=None, now=datetime.now(UTC))
                _ = 1 / 0
    assert await system.pool.fetchval("SELECT count(*) FROM incidents WHERE title = $1",
                                      title) == 0


async def test_the_post_says_where_its_time_went(system: System) -> None:
    lat, lon = await _crowd(system, n=2)
    body = incident_body(fresh_area(), location={"lat": lat, "lon": lon})
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with system.client() as http:
        first = await http.post("/v1/incidents", json=body, headers=key)
        again = await http.post("/v1/incidents", json=body, headers=key)
    assert first.status_code == 201, first.text
    spans = dict(p.strip().split(";dur=") for p in first.headers["server-timing"].split(","))
    assert set(spans) == {"check", "tx", "view"} and all(float(v) >= 0 for v in spans.values())
    assert again.headers["idempotent-replayed"] == "true"
    audit = await system.pool.fetch("SELECT action FROM audit_log WHERE incident_id = $1",
                                    uuid.UUID(first.json()["id"]))
    assert [a["action"] for a in audit] == ["raise"]  # the replay wrote no second row
