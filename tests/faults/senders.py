"""Sender leases and the carrier clock, as the shared-senders fault test reads them."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from tests.faults.instances import Instances
from tests.notifier.harness import Dispatcher
from tests.system.harness import LOG_DIR, System


async def lease_holders(system: System) -> dict[str, uuid.UUID]:
    """Sender number -> holder of its unexpired lease (notifier.sender_leases)."""
    conn = await asyncpg.connect(system.database_url)
    try:
        rows = await conn.fetch(
            "SELECT sender, holder FROM notifier.sender_leases WHERE expires_at > now()"
        )
    finally:
        await conn.close()
    return {r["sender"]: r["holder"] for r in rows}


def instance_of(system: Instances, holder: uuid.UUID) -> str:
    """Which running notifier process is `holder` (each logs its leases with its holder id)."""
    for name in system.instances("notifier"):
        log = LOG_DIR / f"{system.prefix}{name.replace('#', '-')}.log"
        if name in system.procs and log.exists() and str(holder) in log.read_text(errors="replace"):
            return name
    raise AssertionError(f"no running notifier logged holder {holder}")


def lease_log(system: Instances, name: str) -> list[list[str]]:
    """The `held` lists an instance logged, in order (for a failing test's message)."""
    log = LOG_DIR / f"{system.prefix}{name.replace('#', '-')}.log"
    lines = [json.loads(x) for x in log.read_text(errors="replace").splitlines() if "{" in x[:1]]
    return [x.get("held", []) for x in lines if x.get("event") == "sender leases"]


async def carrier_clock(system: System) -> dict[str, list[tuple[float, int]]]:
    """Per From number, (carrier seconds, segments) of every message that left its queue."""
    sent: dict[str, list[list[float]]] = await system.sandbox("GET", "/v1/admin/sent")
    return {k: [(float(t), int(n)) for t, n in v] for k, v in sent.items()}


async def carrier_waits(system: System, phones: list[str]) -> list[float]:
    """Seconds each message to `phones` waited in its sender's carrier queue."""
    got = await system.sandbox("GET", "/v1/admin/departures", params={"to": phones})
    return [
        (datetime.fromisoformat(m["sent"]) - datetime.fromisoformat(m["created"])).total_seconds()
        for msgs in got.values()
        for m in msgs
        if m["sent"]
    ]


async def wait_timeline(system: System, phones: list[str]) -> list[tuple[str, str, float]]:
    """(created, from, wait) of every 10th message by creation: where a queue built up."""
    got = await system.sandbox("GET", "/v1/admin/departures", params={"to": phones})
    rows = sorted((m["created"], m["sent"]) for msgs in got.values() for m in msgs if m["sent"])
    return [
        (c[11:23], "", (datetime.fromisoformat(t) - datetime.fromisoformat(c)).total_seconds())
        for c, t in rows[::10]
    ]


def achieved_rate(stamps: list[tuple[float, int]]) -> float:
    """Segments a second from the first departure to the last (the last one's cost excluded)."""
    span = stamps[-1][0] - stamps[0][0] if len(stamps) > 1 else 0.0
    return sum(n for _, n in stamps[:-1]) / span if span > 0 else 0.0


@dataclass
class Notifiers(Instances):
    """Only the sandbox and the notifier instances: call-outs are published straight to the
    topic (tests.notifier.harness.Dispatcher), so no registry or dispatcher takes CPU."""

    async def start(self, *names: str) -> None:
        assert self.proxy is not None
        await self.proxy.start()
        # Up to three minutes each: on a loaded 2-core box starting Python processes at once
        # takes longer than the harness's one minute, and that is not what is tested here.
        for name in names or ("sandbox", *self.instances("notifier")):
            self.spawn(name)
        await asyncio.gather(*(self.wait_ready(n, within=180) for n in names or self.procs))


@asynccontextmanager
async def publisher(system: System) -> AsyncIterator[Dispatcher]:
    """A dispatcher stand-in publishing call-out events with the system's topic prefix."""
    await ensure_topics(system.settings)
    producer = make_producer(system.settings, client_id="faults-senders")
    await producer.start()
    try:
        yield Dispatcher(system.settings, producer)  # type: ignore[arg-type]
    finally:
        await producer.stop()
