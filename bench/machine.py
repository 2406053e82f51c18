"""What the numbers were measured on: cores, memory, CPU, load, and the versions in play."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

PACKAGES = ("fastapi", "uvicorn", "aiokafka", "asyncpg", "twilio", "pydantic", "httpx")
KAFKA_LIBS = Path(__file__).resolve().parents[1] / ".state" / "kafka" / "libs"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _kafka_version() -> str | None:
    jars = sorted(KAFKA_LIBS.glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else None


async def _postgres(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        return {"postgres": str(await conn.fetchval("SHOW server_version")),
                "postgis": str(await conn.fetchval("SELECT postgis_lib_version()"))}
    finally:
        await conn.close()


async def machine(database_url: str) -> dict[str, Any]:
    versions: dict[str, Any] = {"python": sys.version.split()[0], "kafka": _kafka_version()}
    versions.update(await _postgres(database_url))
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(), "memory_gib": _memory_gib(), "cpu_model": _cpu_model(),
        "kernel": platform.release(), "load_avg_1m": round(os.getloadavg()[0], 2),
        "versions": versions,
    }
