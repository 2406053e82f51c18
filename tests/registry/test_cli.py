"""`baiying import` and `baiying seed` as an operator runs them (env settings, real database)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner

from baiying_cli.main import app
from baiying_shared.db.migrate import migrate
from tests.conftest import Infra


async def _team(dsn: str, schema: str) -> uuid.UUID:
    await migrate(dsn, schema=schema, package="baiying_registry")
    conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    try:
        team_id = uuid.uuid4()
        await conn.execute(f'INSERT INTO "{schema}".teams (id, name, type, district)'
                           " VALUES ($1, '瑞金市巡防队', 'patrol', '360781')", team_id)
        return team_id
    finally:
        await conn.close()


@pytest.fixture
def env(infra: Infra, database_url: str) -> dict[str, str]:
    schema = f"cli_{uuid.uuid4().hex[:8]}"
    values = {"BAIYING_DATABASE_URL": database_url, "BAIYING_DB_SCHEMA": schema,
              "BAIYING_LOG_JSON": "false"}
    return values


def test_import_command_reports_progress_counts_and_rejections(
    env: dict[str, str], tmp_path: Path
) -> None:
    team_id = asyncio.run(_team(env["BAIYING_DATABASE_URL"], env["BAIYING_DB_SCHEMA"]))
    csv = tmp_path / "people.csv"
    csv.write_text(f"name,phone,team_id,lat,lon\n谢春兰,13800138000,{team_id},25.88,116.02\n"
                   f"坏,999,{team_id},25.88,116.02\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(app, ["import", str(csv), "--rejects", str(rejects)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 imported (1 created, 0 updated)" in result.stdout
    assert "line 3: phone" in result.stdout
    assert "rows 2: 1 created" in result.stderr  # the progress line
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("3,phone,")


def test_import_command_refuses_a_malformed_file(env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_bytes("姓名,电话\n".encode("gbk"))
    result = CliRunner().invoke(app, ["import", str(csv)], env=env)
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr
