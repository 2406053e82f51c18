"""A whole drill under `baiying serve all` (one process): every line names the service that wrote
it, no line carries a whole mobile number, and the twilio library's per-request INFO is off."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from baiying_cli.catalog import SERVICES
from baiying_cli.drill import INCIDENT, run_drill
from tests.conftest import Infra
from tests.support import eventually
from tests.system.harness import LOG_DIR, NAMES, System, create_database, drop_database

# A whole number as it would leak: +86 and 11 digits, or a bare Chinese mobile.
# Not inside a hex run (a trace id such as ...a19447509495ee... is not a phone number).
UNMASKED = re.compile(r"(?<![\d*a-f])(\+?86)?1[3-9]\d{9}(?![\da-f])")
# Which service answers which route prefix: a line for the route must say that service.
OWNER = {"/v1/incidents": "dispatcher", "/v1/volunteers": "registry", "/v1/teams": "registry",
         "/v1/webhooks": "notifier", "/2010-04-01": "sandbox"}
TOGETHER = "+".join(SERVICES)  # the process's own lines (uvicorn start-up)


class OneProcess(System):
    """The four services as `serve all` in one process (the bug lived in shared process state)."""

    def spawn_all(self) -> Path:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        path = LOG_DIR / f"{self.prefix}all.log"
        ports = [arg for n in NAMES for arg in ("--port-of", f"{n}={self.ports[n]}")]
        proc = subprocess.Popen(
            [sys.executable, "-m", "baiying_cli.main", "serve", "all", *ports],
            env={**self.env(), "BAIYING_LOG_LEVEL": "INFO"},
            stdout=path.open("ab"), stderr=subprocess.STDOUT,
        )
        self.procs = {NAMES[0]: proc}
        self.procs.update({n: proc for n in NAMES[1:]})
        return path


@pytest.fixture
async def together(infra: Infra) -> AsyncIterator[tuple[OneProcess, Path]]:
    url = await create_database(infra.admin_database_url)
    system = OneProcess(database_url=url, kafka_bootstrap=infra.kafka_bootstrap)
    try:
        path = system.spawn_all()
        for name in NAMES:
            await system.wait_ready(name)
        yield system, path
    finally:
        proc = next(iter(system.procs.values()), None)
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        await drop_database(infra.admin_database_url, url)


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        assert not UNMASKED.search(raw), f"unmasked mobile number in a log line: {raw[:300]}"
        if raw.startswith("{"):
            out.append(json.loads(raw))
    return out


def _owner(route: str) -> str | None:
    return next((svc for prefix, svc in OWNER.items() if route.startswith(prefix)), None)


async def test_a_drill_under_serve_all_logs_each_service_by_name(
    together: tuple[OneProcess, Path],
) -> None:
    system, path = together
    here = (INCIDENT["location"]["lat"], INCIDENT["location"]["lon"])
    people = await system.add_people(8, near=here, team_type="patrol", step_deg=0.002)
    await eventually(lambda: system.indexed(len(people)), timeout=30, what="people indexed")
    final, _ = await run_drill(dispatcher=system.dispatcher_url, sandbox=system.sandbox_url,
                               seed=7, limit_s=60, wait_s=3, pace=0.25)
    assert final["called"] >= 1, final
    lines = _lines(path)
    by_service = Counter(line.get("service") for line in lines)
    assert set(by_service) <= {*NAMES, TOGETHER}, by_service
    for name in ("registry", "dispatcher", "notifier"):
        assert by_service[name] > 0, (name, by_service)
    routed = [(line["route"], line["service"]) for line in lines if line.get("event") == "http"]
    wrong = [(r, s) for r, s in routed if _owner(r) not in (None, s)]
    assert routed and not wrong, wrong[:5]
    assert {s for r, s in routed if _owner(r)} >= {"registry", "dispatcher", "notifier"}
    twilio = [line for line in lines if str(line.get("logger", "")).startswith("twilio")
              and line.get("level") == "info"]
    assert not twilio, twilio[:2]
