"""`baiying seed ganzhou` on the real database: exact counts, snapshots, determinism, skip."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from baiying_registry import repo
from baiying_registry.config import RegistrySettings
from baiying_registry.reference import ganzhou
from baiying_registry.seed import seed_ganzhou
from baiying_shared.events import teams, volunteers
from baiying_shared.events.envelope import decode
from tests.conftest import Infra
from tests.registry.conftest import registry_settings


async def _connect(settings: RegistrySettings) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(settings.database_url.get_secret_value(),
                                 server_settings={"search_path": f"{settings.db_schema},public"})


@pytest.fixture(scope="module")
async def seeded(infra: Infra, database_url: str) -> RegistrySettings:
    settings = registry_settings(infra, database_url)
    start = time.monotonic()
    lines: list[str] = []
    report = await seed_ganzhou(settings, seed=7, progress=lines.append)
    assert time.monotonic() - start < 30, "seeding the document's figures should take seconds"
    assert (report.teams, report.volunteers, report.skipped) == (1612, 12179, False)
    assert any("volunteers staged" in line for line in lines), lines
    return settings


async def test_counts_per_type_are_the_documents(seeded: RegistrySettings) -> None:
    conn = await _connect(seeded)
    try:
        rows = await conn.fetch(
            "SELECT t.type, count(DISTINCT t.id) AS teams, count(v.id) AS members"
            " FROM teams t JOIN volunteers v ON v.team_id = t.id GROUP BY t.type")
        divisions = await conn.fetchval("SELECT count(DISTINCT district) FROM volunteers")
        leaders = await conn.fetchval(
            "SELECT count(*) FROM teams t JOIN volunteers v ON v.id = t.leader_volunteer_id"
            " AND v.team_id = t.id")
    finally:
        await conn.close()
    expected = {f.type.value: (f.teams, f.members) for f in ganzhou().five_teams}
    assert {r["type"]: (r["teams"], r["members"]) for r in rows} == expected
    assert sum(m for _, m in expected.values()) == 12179
    assert divisions == 18
    assert leaders == 1612, "every team is led by one of its own members"


async def test_every_seeded_row_has_its_snapshot(seeded: RegistrySettings) -> None:
    conn = await _connect(seeded)
    try:
        events = await conn.fetch("SELECT topic, key, value FROM outbox")
        people = await conn.fetch(f"SELECT {repo.V_COLUMNS} FROM volunteer_rows")
        team_rows = await conn.fetch(f"SELECT {repo.T_COLUMNS} FROM teams")
    finally:
        await conn.close()
    by_topic: dict[str, dict[str, Any]] = {volunteers.TOPIC: {}, teams.TOPIC: {}}
    for e in events:
        by_topic[e["topic"]][e["key"]] = decode(e["value"]).payload
    assert by_topic[volunteers.TOPIC] == {str(r["id"]): repo.volunteer_snapshot(r) for r in people}
    assert by_topic[teams.TOPIC] == {str(r["id"]): repo.team_snapshot(r) for r in team_rows}


async def test_seeding_again_skips(seeded: RegistrySettings) -> None:
    report = await seed_ganzhou(seeded, seed=7)
    assert report.skipped and "already seeded" in report.message
    conn = await _connect(seeded)
    try:
        assert await conn.fetchval("SELECT count(*) FROM volunteers") == 12179
    finally:
        await conn.close()


async def _fingerprint(settings: RegistrySettings) -> list[tuple[Any, ...]]:
    conn = await _connect(settings)
    try:
        rows = await conn.fetch(
            "SELECT v.id, v.name, v.phone, t.name AS team, v.district, v.lat, v.lon, v.skills"
            " FROM volunteer_rows v JOIN teams t ON t.id = v.team_id ORDER BY v.phone")
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def test_same_seed_same_people(
    infra: Infra, database_url: str, seeded: RegistrySettings
) -> None:
    again = registry_settings(infra, database_url)
    other = registry_settings(infra, database_url)
    await seed_ganzhou(again, seed=7)
    await seed_ganzhou(other, seed=8)
    first = await _fingerprint(seeded)
    assert first == await _fingerprint(again)
    different = await _fingerprint(other)
    assert len(different) == len(first) and different != first
