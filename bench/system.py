"""The whole system as processes for a benchmark: the test harness on a throwaway database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.system import harness
from tests.system.harness import System

ADMIN_URL = os.environ.get(
    "BAIYING_DATABASE_URL", "postgresql://baiying:baiying@127.0.0.1:5432/baiying")
KAFKA = os.environ.get("BAIYING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
QUIET = {"BAIYING_LOG_LEVEL": "WARNING", "BAIYING_SANDBOX_LOG_LEVEL": "WARNING"}


@asynccontextmanager
async def running_system(**env: str) -> AsyncIterator[System]:
    """Registry, dispatcher, notifier and sandbox on a fresh database and topic prefix (the
    test harness's own start and clean-up, topics deleted after)."""
    async with harness.running_system(ADMIN_URL, KAFKA, env_extra={**QUIET, **env}) as system:
        yield system


def desk(system: System) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token('duty_desk', ['360702'])}"}


def incident_body(tag: str, point: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {
        "title": tag, "category": "bench", "address": "章贡区", "district": "360702",
        "location": {"lat": point[0], "lon": point[1]}, "radius_m": 3000,
        "need": {"total": 1}, "escalation": {"rounds": 1, "widening": 1.0, "wait_s": 3600},
        **extra,
    }


async def created(http: httpx.AsyncClient) -> int:
    """Messages the sandbox has accepted so far."""
    return int((await http.get("/v1/admin/stats")).json().get("created", 0))
