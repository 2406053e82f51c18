"""PostgreSQL stopped under running services: /readyz tells the truth, recovery needs no one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.faults.crowd import (
    add_crowd,
    callout,
    incident,
    indexed,
    not_exactly_once,
    raise_incident,
    wait_served,
)
from tests.faults.infra import PrivateInfra
from tests.support import eventually
from tests.system.harness import System

pytestmark = pytest.mark.faults

SERVICES = ("registry", "dispatcher", "notifier")
PLACE = (25.85, 114.40)


async def _readiness(system: System) -> dict[str, tuple[int, dict[str, Any]]]:
    async with httpx.AsyncClient(timeout=5) as http:
        answers = [await http.get(f"{system.url(name)}/readyz") for name in SERVICES]
    return {name: (r.status_code, r.json()) for name, r in zip(SERVICES, answers, strict=True)}


def _all(status: int, database_ok: bool) -> Any:
    def check(seen: dict[str, tuple[int, dict[str, Any]]]) -> bool:
        return all(
            code == status and (body["checks"]["database"] == "ok") == database_ok
            and body["checks"]["kafka"] == "ok"
            for code, body in seen.values()
        )
    return check


async def test_database_outage_is_reported_and_survived(
    system: System, private_infra: PrivateInfra
) -> None:
    phones = await add_crowd(system, 6, near=PLACE)
    await eventually(lambda: indexed(system, phones), timeout=60, what="people indexed")
    assert _all(200, True)(await _readiness(system))

    await asyncio.to_thread(private_infra.pg_stop)
    down: dict[str, Any] = {}

    async def reported_down() -> bool:
        down.update(await _readiness(system))
        return bool(_all(503, False)(down))

    try:
        await eventually(reported_down, timeout=30, interval=0.3, what="503 naming the database")
    finally:
        await asyncio.to_thread(private_infra.pg_start)
    assert all(body["checks"]["database"].startswith("failed") for _, body in down.values())

    async def recovered() -> bool:
        return bool(_all(200, True)(await _readiness(system)))

    await eventually(recovered, timeout=60, interval=0.3, what="every service ready again")
    raised = await raise_incident(system, callout(PLACE, need=2, radius_m=1000))
    counts = await wait_served(system, phones, 4, what="the call-out after recovery")
    called = [p for p, n in counts.items() if n]
    assert not_exactly_once({p: counts[p] for p in called}) == {}
    for phone in called[:2]:
        await system.sandbox("POST", f"/v1/phones/{phone}/reply", json={"body": "1"})

    async def staffed() -> bool:
        return bool((await incident(system, raised["id"]))["status"] == "staffed")

    await eventually(staffed, timeout=60, what="incident staffed after the outage")
