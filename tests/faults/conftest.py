"""Faults run on a private PostgreSQL + Kafka (see infra.py) and one System on top of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.faults.infra import PrivateInfra, brought_up
from tests.system.harness import System, running_system

# Fast enough that a few hundred messages take seconds, slow enough that a kill lands
# mid-fan-out; short leases so a killed notifier's open claims are reconciled in seconds,
# not the production 30 s; generous retries so a 30 % error storm cannot exhaust them.
FAULTS_ENV = {
    "BAIYING_SENDER_MPS": "60",
    "BAIYING_CLAIM_LEASE_S": "3",
    "BAIYING_TWILIO_TIMEOUT_S": "2",
    "BAIYING_RECONCILE_INTERVAL_S": "0.5",
    "BAIYING_RETRY_MAX_ATTEMPTS": "30",
    "BAIYING_RETRY_BASE_S": "0.1",
    "BAIYING_RETRY_CAP_S": "1",
    "BAIYING_LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="package")
def private_infra() -> Iterator[PrivateInfra]:
    missing = PrivateInfra.missing_tools()
    if missing:  # e.g. a testcontainers-only machine: `make test` installs these
        pytest.skip(f"faults need the local infra tools (deploy/local/install.sh): {missing}")
    with brought_up(PrivateInfra.from_env()) as infra:
        yield infra


@pytest.fixture(scope="package")
async def faulty(private_infra: PrivateInfra) -> AsyncIterator[System]:
    """All four services as processes on the private infra; tests may kill any of them."""
    infra = private_infra.infra
    async with running_system(infra.admin_database_url, infra.kafka_bootstrap,
                              env_extra=dict(FAULTS_ENV)) as system:
        yield system


@pytest.fixture
async def system(faulty: System, private_infra: PrivateInfra) -> AsyncIterator[System]:
    """The faults System with every service up and a well-behaved, empty sandbox."""
    private_infra.ensure_up()  # heals a test that failed with the broker or database down
    for name in ("registry", "dispatcher", "notifier"):
        if name not in faulty.procs:
            await faulty.restart(name)
    await faulty.sandbox("PATCH", "/v1/admin/behaviour",
                         json={"mps": 0, "error_rate": 0.0, "latency_ms": 0})
    await faulty.sandbox("POST", "/v1/admin/reset")
    yield faulty
