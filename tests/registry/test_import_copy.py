"""The import's COPY path: new people's rows and snapshot envelopes are made in Python.

Every outbox row it writes must decode to the same snapshot the API path would publish for
the stored row; a phone stored by someone else between the check and the COPY must still be
updated (not fail the file), and the connection must read geography as before afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from baiying_registry import importer, repo
from baiying_registry.csvrows import CsvParser, Parsed, iter_lines
from baiying_registry.importer import import_parsed, import_stream
from baiying_shared.events import volunteers
from baiying_shared.events.envelope import decode
from tests.registry.conftest import Registry, new_phone

_HEADER = ("name,phone,team_id,district,lat,lon,skills,channels,language,on_duty,"
           "daily_alert_cap,quiet_start,quiet_end,status")


def _line(name: str, phone: str, team_id: str) -> str:
    return f"{name},{phone},{team_id},,25.88,116.02,,,,,,,,"


def _parser(registry: Registry, lines: list[str]) -> CsvParser:
    return CsvParser(iter_lines("\n".join([_HEADER, *lines]) + "\n"), area=registry.settings.area)


async def _snapshots(conn: Any, phones: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """The outbox envelopes of these phones' people, and their stored snapshots by id."""
    rows = await conn.fetch(f"SELECT {repo.V_COLUMNS} FROM volunteer_rows"
                            " WHERE phone = ANY($1::text[])", phones)
    ids = [str(r["id"]) for r in rows]
    outbox = await conn.fetch("SELECT topic, key, value, event_id FROM outbox"
                              " WHERE key = ANY($1::text[]) ORDER BY id", ids)
    return list(outbox), {str(r["id"]): repo.volunteer_snapshot(r) for r in rows}


async def test_copied_snapshots_are_the_stored_rows(registry: Registry) -> None:
    team = await registry.team("360781", "building_watch")
    t = team["id"]
    phones = [new_phone() for _ in range(4)]
    parser = _parser(registry, [
        f'"引号""名\\字",{phones[0]},{t},,25.8856,116.0271,first_aid;driver,sms;app,en,否,'
        "0,22:00,07:30,suspended",
        f"钟二,{phones[1]},{t},360702,25.81,115.99,,,,,,,,",
        f"Ann\tLee,{phones[2]},{t},,25.9,116.1,boat,app,zh,true,200,,,active",
        f"钟四,{phones[3]},{t},,25.123456789012,116.000001,,,,1,3,,,",
    ])
    async with registry.pool.acquire() as conn:
        report = await import_stream(conn, parser=parser, trace_id="trace-copy-1", chunk_rows=3)
        outbox, stored = await _snapshots(conn, phones)
    assert (report.created, report.updated, report.rejected) == (4, 0, [])
    assert len(outbox) == 4 and {o["key"] for o in outbox} == set(stored)
    for o in outbox:
        envelope = decode(o["value"])
        assert o["topic"] == volunteers.TOPIC and envelope.event_id == o["event_id"]
        assert (envelope.type, envelope.producer, envelope.trace_id) == (
            "volunteer.snapshot", "registry", "trace-copy-1")
        assert envelope.payload == stored[o["key"]]
        assert uuid.UUID(o["key"]).version == 7 and envelope.event_id.version == 7
    by_phone = {s.phone: s for s in stored.values()}
    first = by_phone[phones[0]]
    assert (first.name, first.district, first.language, first.status) == (
        '引号"名\\字', "360781", "en", "suspended")
    assert first.quiet_hours is not None and str(first.quiet_hours.end) == "07:30:00"
    assert by_phone[phones[1]].district == "360702" and by_phone[phones[2]].name == "Ann\tLee"
    assert len({o["event_id"] for o in outbox}) == 4


async def test_a_phone_stored_meanwhile_is_updated(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A split chunk's check says no one holds a phone, then the COPY finds it taken: that
    chunk goes through the upsert instead, and nothing of the failed COPY stays."""
    team = await registry.team("360781")
    t = team["id"]
    first, taken = await registry.volunteer(team), await registry.volunteer(team)
    fresh = [new_phone() for _ in range(6)]
    asked: list[int] = []

    async def nobody(conn: Any, phones: list[str]) -> set[str]:
        asked.append(len(phones))
        return set()

    monkeypatch.setattr(importer, "_stored_phones", nobody)
    lines = [_line("新一", first["phone"], t), *(_line("新", p, t) for p in fresh[:3]),
             _line("新名字", taken["phone"], t), *(_line("新", p, t) for p in fresh[3:])]
    async with registry.pool.acquire() as conn:
        report = await import_stream(conn, parser=_parser(registry, lines), chunk_rows=4)
        outbox, stored = await _snapshots(conn, [first["phone"], taken["phone"], *fresh])
    assert asked == [4], "the second chunk (one stored phone in four) was split"
    assert (report.created, report.updated, report.imported) == (6, 2, 8)
    assert stored[taken["id"]].name == "新名字" and stored[taken["id"]].revision == 2
    assert len(stored) == 8
    mine = [decode(o["value"]).payload for o in outbox]
    assert all(s in mine for s in stored.values())
    assert sorted(p.phone for p in mine if p.phone in fresh) == sorted(fresh)


async def test_the_connection_reads_geography_as_before(registry: Registry) -> None:
    team = await registry.team("360781")
    phone = new_phone()
    async with registry.pool.acquire() as conn:
        before = await conn.fetchval("SELECT ST_MakePoint(116, 25)::geography")
        await import_stream(conn, parser=_parser(
            registry, [f"甲,{phone},{team['id']},,25.88,116.02,,,,,,,,"]))
        after = await conn.fetchval("SELECT home FROM volunteers WHERE phone = $1", phone)
        chunk = _parser(registry, [f"乙,{new_phone()},{team['id']},,25.88,116.02,,,,,,,,"]).chunk(1)
        assert chunk is not None
        broken = Parsed(columns=chunk.columns, received=1,  # the table's CHECK refuses it
                        rows=[chunk.rows[0]._replace(status="retired")])
        with pytest.raises(asyncpg.CheckViolationError):
            await import_parsed(conn, parsed=broken)
        again = await conn.fetchval("SELECT home FROM volunteers WHERE phone = $1", phone)
    assert type(before) is type(after) is type(again) is str
    assert after == again and after.upper().startswith("0101000020E6100000")


async def test_chunks_after_a_stored_phone(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New chunks are copied unasked; the chunk holding a stored phone takes the upsert; then
    a chunk of mostly new phones is split, and a chunk of mostly stored ones upserted whole."""
    team = await registry.team("360781")
    t = team["id"]
    old = [await registry.volunteer(team) for _ in range(4)]
    new = [new_phone() for _ in range(7)]
    asked: list[int] = []
    check = importer._stored_phones

    async def spy(conn: Any, phones: list[str]) -> set[str]:
        asked.append(len(phones))
        found: set[str] = await check(conn, phones)
        return found

    monkeypatch.setattr(importer, "_stored_phones", spy)
    phones = [*new[:2], new[2], old[0]["phone"], new[3], new[4], old[1]["phone"], new[5],
              old[2]["phone"], old[3]["phone"], new[6]]
    lines = [_line(f"改{i}", p, t) for i, p in enumerate(phones)]
    async with registry.pool.acquire() as conn:
        report = await import_stream(conn, parser=_parser(registry, lines), chunk_rows=2)
        outbox, stored = await _snapshots(conn, phones)
    # chunks: new new (copied) | new OLD (the copy fails: upserted; half were stored) |
    # new new (upserted; none stored) | OLD new (split; half stored) | OLD OLD (upserted;
    # all stored) | new (upserted)
    assert asked == [2]
    assert (report.created, report.updated, report.unchanged) == (7, 4, 0)
    assert all(stored[v["id"]].revision == 2 for v in old) and len(stored) == 11
    payloads = [decode(o["value"]).payload for o in outbox]
    assert all(s in payloads for s in stored.values())
