"""Fixtures: a real PostgreSQL+PostGIS and a real Kafka for every test session.

They come from BAIYING_DATABASE_URL / BAIYING_KAFKA_BOOTSTRAP (what `make test` sets
after `deploy/local/infra.sh up`); else from testcontainers when a Docker engine
answers; else the session stops with one message naming the command to run.
Each session gets its own database and topic prefix, so runs never see each other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from baiying_shared.settings import CommonSettings
from tests import topics

START_HINT = (
    "No PostgreSQL/Kafka for the tests. Start them with `make infra` "
    "(deploy/local/infra.sh up), then run `make test`; or set BAIYING_DATABASE_URL and "
    "BAIYING_KAFKA_BOOTSTRAP; or run a Docker engine so testcontainers can start them."
)


@dataclass(frozen=True)
class Infra:
    admin_database_url: str
    kafka_bootstrap: str


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    db, kafka = os.environ.get("BAIYING_DATABASE_URL"), os.environ.get("BAIYING_KAFKA_BOOTSTRAP")
    if db and kafka:
        yield Infra(db, kafka)
        return
    if not _docker_answers():
        pytest.exit(START_HINT, returncode=2)
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    # testcontainers' Kafka module drives Confluent images; 7.6 in KRaft mode speaks the same
    # protocol aiokafka uses. (Not exercised on the project's own Docker-less machines.)
    postgis = PostgresContainer("postgis/postgis:15-3.4", driver=None)
    with postgis as pg, KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kf:
        yield Infra(pg.get_connection_url(), kf.get_bootstrap_server())


@pytest.fixture(scope="session", autouse=True)
async def _delete_test_topics() -> AsyncIterator[None]:
    """At the end of the session, the topics its tests made (see tests/topics.py)."""
    yield
    await topics.delete_all_used()


@pytest.fixture(scope="session")
async def database_url(infra: Infra) -> AsyncIterator[str]:
    """A fresh database for this session (template1 carries PostGIS), dropped afterwards."""
    name = f"baiying_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(infra.admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = infra.admin_database_url.rpartition("/")
    url = f"{base}/{name}"
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    await conn.close()
    yield url
    if os.environ.get("BAIYING_KEEP_TEST_DB"):
        return
    admin = await asyncpg.connect(infra.admin_database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def unique() -> str:
    """A short unique token for names that must not collide between tests."""
    return uuid.uuid4().hex[:8]


def settings_for(
    cls: type[CommonSettings], *, infra: Infra, database_url: str, prefix: str, **extra: Any
) -> Any:
    """Settings of `cls` pointing at the test infrastructure with an isolated topic prefix."""
    topics.used(infra.kafka_bootstrap, prefix)
    return cls(
        profile="test",
        database_url=database_url,
        kafka_bootstrap=infra.kafka_bootstrap,
        topic_prefix=prefix,
        log_json=False,
        kafka_max_partitions=3,
        **extra,
    )


@pytest.fixture
def common_settings(infra: Infra, database_url: str, unique: str) -> CommonSettings:
    """Plain settings with a per-test topic prefix."""
    return settings_for(
        CommonSettings, infra=infra, database_url=database_url, prefix=f"t{unique}."
    )  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
async def system(infra: Infra) -> AsyncIterator[Any]:
    """All four services as real processes on a database and topic prefix of their own."""
    from tests.system.harness import running_system

    async with running_system(infra.admin_database_url, infra.kafka_bootstrap) as system:
        yield system
