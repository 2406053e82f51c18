"""POST /v1/volunteers/import on the real database: upserts, rejections, limits, atomicity."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from baiying_registry.csvrows import CsvParser, MalformedCsv, Parsed, Row, iter_lines
from baiying_registry.importer import import_parsed, import_stream
from tests.registry.conftest import Registry, new_phone


async def _upload(registry: Registry, data: bytes) -> Any:
    async with registry.client() as c:
        return await c.post("/v1/volunteers/import", content=data,
                            headers={"Content-Type": "text/csv"})


async def _stored(registry: Registry, phone: str) -> asyncpg.Record | None:
    return await registry.pool.fetchrow(
        "SELECT name, district, skills, on_duty, revision, daily_alert_cap FROM volunteers"
        " WHERE phone = $1", phone)


async def test_valid_rows_are_imported_and_every_bad_line_is_reported(registry: Registry) -> None:
    team = await registry.team("360781", "security_volunteer")
    t = team["id"]
    p1, p2, p3 = new_phone(), new_phone(), new_phone()
    lines = [
        "name,phone,team_id,lat,lon,skills,on_duty",
        f"钟小梅,{p1},{t},25.8856,116.0271,first_aid;driver,是",  # line 2
        f"赖建华,{p2.removeprefix('+86')},{t},25.89,116.03,,false",  # line 3: local format
        f"坏号码,12345,{t},25.89,116.03,,true",  # line 4: phone
        f"北京人,{new_phone()},{t},39.9,116.4,,true",  # line 5: lat outside the area
        f"无队伍,{new_phone()},{uuid.uuid4()},25.89,116.03,,true",  # line 6: unknown team
        f"重复号,{p1},{t},25.89,116.03,,true",  # line 7: same phone as line 2
        "少字段,x",  # line 8: wrong field count
        f'"引号,姓名",{p3},{t},25.88,116.02,mediation,1',  # line 9: quoted comma is fine
    ]
    r = await _upload(registry, ("\ufeff" + "\n".join(lines) + "\n").encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["received"], report["imported"], report["created"]) == (8, 3, 3)
    assert [(x["line"], x["field"]) for x in report["rejected"]] == [
        (4, "phone"), (5, "lat"), (6, "team_id"), (7, "phone"), (8, "*")]
    assert "line 2" in report["rejected"][3]["reason"]
    row = await _stored(registry, p1)
    assert row is not None and row["name"] == "钟小梅" and row["district"] == "360781"
    assert list(row["skills"]) == ["driver", "first_aid"] and row["on_duty"] is True
    assert (await _stored(registry, p3))["name"] == "引号,姓名"  # type: ignore[index]
    outbox = await registry.pool.fetchval(
        "SELECT count(*) FROM outbox o JOIN volunteers v ON o.key = v.id::text"
        " WHERE v.phone = ANY($1::text[])", [p1, p2, p3])
    assert outbox == 3


async def test_reimport_updates_present_columns_and_skips_unchanged(registry: Registry) -> None:
    team = await registry.team("360781")
    p1, p2 = new_phone(), new_phone()
    first = (f"name,phone,team_id,lat,lon,daily_alert_cap\n"
             f"曾一,{p1},{team['id']},25.88,116.02,7\n曾二,{p2},{team['id']},25.88,116.02,7\n")
    assert (await _upload(registry, first.encode())).json()["created"] == 2
    second = (f"phone,name,team_id,lat,lon\n"
              f"{p1},曾一改,{team['id']},25.88,116.02\n{p2},曾二,{team['id']},25.88,116.02\n")
    report = (await _upload(registry, second.encode())).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    row = await _stored(registry, p1)
    assert row is not None
    assert (row["name"], row["daily_alert_cap"], row["revision"]) == ("曾一改", 7, 2)
    assert (await _stored(registry, p2))["revision"] == 1  # type: ignore[index]


@pytest.mark.parametrize(("data", "says"), [
    ("姓名,电话\n张三,1\n".encode("gbk"), "UTF-8"),
    (b"name,phone,team_id,lat\nx,y,z,1\n", "lon"),
    (b"name,phone,team_id,lat,lon,nickname\n", "nickname"),
    (b"", "empty"),
    (b'name,phone,team_id,lat,lon\n"x,y,z,1,2\n', "line"),
])
async def test_malformed_csv_is_422_with_a_reason(
    registry: Registry, data: bytes, says: str
) -> None:
    r = await _upload(registry, data)
    assert r.status_code == 422, r.text
    assert says in r.json()["error"]
    assert r.json()["detail"][0]["field"] == "file"


async def test_oversized_upload_is_413(registry: Registry) -> None:
    limit = registry.settings.import_max_bytes
    r = await _upload(registry, b"name,phone,team_id,lat,lon\n" + b"x" * limit)
    assert r.status_code == 413, r.text


async def test_import_needs_an_admin(registry: Registry) -> None:
    async with registry.client("supervisor", "360781") as c:
        r = await c.post("/v1/volunteers/import", content=b"name\n",
                         headers={"Content-Type": "text/csv"})
    assert r.status_code == 403


async def test_a_failure_mid_import_writes_nothing(registry: Registry) -> None:
    team = await registry.team("360781")
    good = [_row(2, new_phone(), team["id"]), _row(3, new_phone(), team["id"])]
    # A value the parser would never let through makes the database refuse mid-statement.
    broken = _row(4, new_phone(), team["id"])._replace(status="retired")
    parsed = Parsed(columns=("name", "phone", "team_id", "lat", "lon", "status"),
                    rows=[*good, broken], received=3)
    before = await registry.pool.fetchval("SELECT count(*) FROM outbox")
    async with registry.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await import_parsed(conn, parsed=parsed)
    phones = [r.phone for r in (*good, broken)]
    assert await registry.pool.fetchval(
        "SELECT count(*) FROM volunteers WHERE phone = ANY($1::text[])", phones) == 0
    assert await registry.pool.fetchval("SELECT count(*) FROM outbox") == before


async def test_a_file_found_malformed_late_writes_nothing(registry: Registry) -> None:
    team = await registry.team("360781")
    phones = [new_phone() for _ in range(5)]
    text = "name,phone,team_id,lat,lon\n" + "".join(
        f"早,{p},{team['id']},25.88,116.02\n" for p in phones) + '坏,"unclosed\n'
    parser = CsvParser(iter_lines(text), area=registry.settings.area)
    before = await registry.pool.fetchval("SELECT count(*) FROM outbox")
    async with registry.pool.acquire() as conn:
        with pytest.raises(MalformedCsv):
            await import_stream(conn, parser=parser, chunk_rows=2)  # two chunks written first
    assert await registry.pool.fetchval(
        "SELECT count(*) FROM volunteers WHERE phone = ANY($1::text[])", phones) == 0
    assert await registry.pool.fetchval("SELECT count(*) FROM outbox") == before


def _row(line: int, phone: str, team_id: str) -> Row:
    return Row(line, "测试", phone, uuid.UUID(team_id), None, 25.88, 116.02, [], ["sms"], "zh",
               True, 10, None, None, "active")


async def test_a_nul_or_undecodable_byte_rejects_only_its_line(registry: Registry) -> None:
    """Issue 11 (4): one bad byte used to reject the whole file without naming the line."""
    team = await registry.team("360781")
    t = team["id"]
    good1, nul, gbk, good2 = new_phone(), new_phone(), new_phone(), new_phone()
    data = b"".join([
        b"name,phone,team_id,lat,lon\n",
        f"\u5218\u4e00,{good1},{t},25.88,116.02\n".encode(),  # line 2
        f"\u5218\u4e8c\x00,{nul},{t},25.88,116.02\n".encode(),  # line 3: a NUL byte
        "\u5218\u4e09".encode("gbk") + f",{gbk},{t},25.88,116.02\n".encode(),  # line 4: GBK
        f"\u5218\u56db,{good2},{t},25.88,116.02\n".encode(),  # line 5
    ])
    r = await _upload(registry, data)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["received"], report["imported"]) == (4, 2)
    assert [(x["line"], x["field"]) for x in report["rejected"]] == [(3, "name"), (4, "name")]
    assert "NUL" in report["rejected"][0]["reason"]
    assert "UTF-8" in report["rejected"][1]["reason"]
    assert await _stored(registry, good1) is not None and await _stored(registry, good2)
    assert await _stored(registry, nul) is None and await _stored(registry, gbk) is None
