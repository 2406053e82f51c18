"""The whole system as real processes: registry, dispatcher, notifier and SMS sandbox.

Each service runs as `python -m baiying_cli.main serve NAME --port P` in its own process,
on a database and topic prefix of its own, so a test can SIGKILL and restart any of them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN
from baiying_shared.auth import Role, mint_token
from baiying_shared.settings import CommonSettings
from tests import topics
from tests.support import eventually, free_port

NAMES = ("sandbox", "registry", "dispatcher", "notifier")
LOG_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "logs"


async def create_database(admin_url: str) -> str:
    """A fresh database (PostGIS comes from template1); return its URL."""
    name = f"baiying_sys_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{admin_url.rpartition('/')[0]}/{name}"


async def drop_database(admin_url: str, url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def running_system(
    admin_database_url: str, kafka_bootstrap: str, *, make: type[System] | None = None,
    **kwargs: Any,
) -> AsyncIterator[System]:
    """A started System (or subclass `make`, built with `kwargs`) on a fresh database;
    stopped and dropped afterwards."""
    url = await create_database(admin_database_url)
    system = (make or System)(database_url=url, kafka_bootstrap=kafka_bootstrap, **kwargs)
    try:
        await system.start()
        yield system
    finally:
        await system.stop()
        await drop_database(admin_database_url, url)
        await topics.delete_prefixed(kafka_bootstrap, {system.prefix})


def _routed(service: str) -> property:
    """A read-only `<service>_url` attribute that asks `service_url` each time it is read."""
    return property(lambda self: self.service_url(service), doc=f"Where clients reach {service}.")


@dataclass
class System:
    """Four service processes wired to each other on free ports of 127.0.0.1."""

    database_url: str
    kafka_bootstrap: str
    env_extra: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"s{uuid.uuid4().hex[:8]}.")
    ports: dict[str, int] = field(default_factory=lambda: {n: free_port() for n in NAMES})
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def service_url(self, service: str) -> str:
        """Where a client reaches `service`: one process here; a subclass may route."""
        return self.url(service)

    registry_url = _routed("registry")
    dispatcher_url = _routed("dispatcher")
    notifier_url = _routed("notifier")
    sandbox_url = _routed("sandbox")

    @property
    def settings(self) -> CommonSettings:
        return CommonSettings(
            profile="test",
            database_url=self.database_url,
            kafka_bootstrap=self.kafka_bootstrap,
            topic_prefix=self.prefix,
        )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BAIYING_PROFILE": "test",
            "BAIYING_DATABASE_URL": self.database_url,
            "BAIYING_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "BAIYING_TOPIC_PREFIX": self.prefix,
            "BAIYING_KAFKA_MAX_PARTITIONS": "3",
            "BAIYING_LOG_JSON": "true",
            "BAIYING_TWILIO_API_BASE_URL": self.sandbox_url,
            "BAIYING_PUBLIC_URL": self.notifier_url,
            "BAIYING_SANDBOX_INBOUND_URL": f"{self.notifier_url}/v1/webhooks/twilio/inbound",
            "BAIYING_SANDBOX_MPS": "0",
            "BAIYING_DISPATCH_ROUND_WAIT_S": "3",
            # Fault tests place crowds across the county map for a 章贡区 desk; the refusal of
            # far-off incidents is tested in tests/dispatcher/test_gazetteer_area.py.
            "BAIYING_DISPATCH_SERVICE_MARGIN_M": "1000000",
            **self.env_extra,
        }

    def token(
        self, role: Role, districts: list[str] | None = None, volunteer_id: uuid.UUID | None = None
    ) -> str:
        """A token the running services accept."""
        return mint_token(
            self.settings,
            sub=f"test-{role}",
            role=role,
            districts=districts if districts is not None else ["*"],
            volunteer_id=volunteer_id,
        )

    def spawn(self, name: str) -> None:
        """Start one service process (logs to test-artifacts/logs/)."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / f"{self.prefix}{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "baiying_cli.main",
                "serve",
                name,
                "--port",
                str(self.ports[name]),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, name: str, *, within: float = 60) -> None:
        """Until /readyz answers 200 (database and broker reachable)."""
        async with httpx.AsyncClient(timeout=2) as client:

            async def ready() -> bool:
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited with {proc.returncode}; see {LOG_DIR}")
                try:
                    return (await client.get(f"{self.url(name)}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, timeout=within, interval=0.2, what=f"{name} ready")

    async def start(self, *names: str) -> None:
        for name in names or NAMES:
            self.spawn(name)
        await asyncio.gather(*(self.wait_ready(n) for n in names or NAMES))

    async def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        await asyncio.to_thread(proc.wait, 30)

    async def restart(self, name: str) -> None:
        self.spawn(name)
        await self.wait_ready(name)

    async def stop(self) -> None:
        for name in list(self.procs):
            await self.kill(name, signal.SIGTERM)

    async def add_people(
        self,
        count: int,
        *,
        near: tuple[float, float],
        district: str = "360702",
        channels: tuple[str, ...] = ("sms",),
        step_deg: float = 0.00135,
        team_type: str = "patrol",
    ) -> list[str]:
        """A team and `count` volunteers north of `near`, ~150 m apart; return their phones."""
        admin = {"Authorization": f"Bearer {self.token('admin')}"}
        async with httpx.AsyncClient(base_url=self.registry_url, headers=admin) as client:
            team = await client.post(
                "/v1/teams",
                json={
                    "name": f"测试队{uuid.uuid4().hex[:4]}",
                    "type": team_type,
                    "district": district,
                },
            )
            assert team.status_code == 201, team.text
            phones = []
            for i in range(count):
                phone = f"+86170{uuid.uuid4().int % 10**8:08d}"
                r = await client.post(
                    "/v1/volunteers",
                    json={
                        "name": f"测试队员{i}",
                        "phone": phone,
                        "team_id": team.json()["id"],
                        "channels": list(channels),
                        "home": {"lat": near[0] + step_deg * (i + 1), "lon": near[1]},
                    },
                )
                assert r.status_code == 201, r.text
                phones.append(phone)
        return phones

    async def indexed(self, count: int) -> bool:
        """Whether the dispatcher's responder index holds at least `count` people."""
        conn = await asyncpg.connect(self.database_url)
        try:
            query = "SELECT count(*) >= $1 FROM dispatcher.responders"
            return bool(await conn.fetchval(query, count))
        finally:
            await conn.close()

    async def sandbox(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the sandbox's admin / phones API."""
        # The admin endpoints take the sandbox account's credentials (the dev account here).
        auth = (DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)
        async with httpx.AsyncClient(base_url=self.sandbox_url, timeout=10, auth=auth) as client:
            response = await client.request(method, path, **kwargs)
            response.raise_for_status()
            return response.json() if response.content else None
