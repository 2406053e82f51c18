"""Several processes of each service, and the one address in front of the notifiers.

On Kubernetes a Service spreads Twilio's callbacks and the phones' replies over every live
notifier pod; here `RoundRobin` does that job: each new connection goes to the next backend
that accepts it, so a SIGKILLed instance is skipped the way an endpoint leaves a Service.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.support import free_port
from tests.system.harness import LOG_DIR, System


class RoundRobin:
    """A TCP proxy on 127.0.0.1 in front of `backends` (ports), skipping dead ones."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self._next = itertools.cycle(range(len(backends)))
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            client_w.close()
            return
        up_r, up_w = upstream
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in self.backends:
            port = self.backends[next(self._next)]
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", port)
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@dataclass
class Instances(System):
    """A System whose services may run as several processes: `notifier#2`, `dispatcher#2`…

    Every notifier is reached through one RoundRobin address: it is the public URL Twilio's
    (the sandbox's) callbacks and the phones' replies go to, whichever instance sent.
    """

    counts: dict[str, int] = field(default_factory=dict)
    proxy: RoundRobin | None = None

    def __post_init__(self) -> None:
        for service, n in self.counts.items():
            for i in range(2, n + 1):
                self.ports[f"{service}#{i}"] = free_port()
        notifiers = [p for name, p in self.ports.items() if name.split("#")[0] == "notifier"]
        self.proxy = RoundRobin(notifiers)

    def instances(self, service: str) -> list[str]:
        return [n for n in self.ports if n.split("#")[0] == service]

    def live(self, service: str) -> str:
        """The URL of the first running instance: what a Service would route a client to."""
        name = next(n for n in self.instances(service) if n in self.procs)
        return self.url(name)

    def service_url(self, service: str) -> str:
        # Notifiers sit behind the round-robin proxy, as behind a Service; the sandbox is one.
        if service == "notifier":
            assert self.proxy is not None
            return f"http://127.0.0.1:{self.proxy.port}"
        return self.live(service) if service in ("registry", "dispatcher") else self.url(service)

    def spawn(self, name: str) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / f"{self.prefix}{name.replace('#', '-')}.log").open("ab")
        service = name.split("#")[0]
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "baiying_cli.main", "serve", service,
             "--port", str(self.ports[name])],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )

    async def start(self, *names: str) -> None:
        assert self.proxy is not None
        await self.proxy.start()
        await super().start(*(names or tuple(self.ports)))

    async def stop(self) -> None:
        await super().stop()
        if self.proxy is not None:
            await self.proxy.stop()


def _lock_ids(schema: str) -> tuple[int, int]:
    """pg_locks' (classid, objid) of the outbox relay's advisory lock for `schema`.

    The same key as baiying_shared.db.outbox derives; a bigint advisory key shows in
    pg_locks as its high and low 32 bits.
    """
    key = int.from_bytes(hashlib.sha1(f"outbox:{schema}".encode()).digest()[:8], "big")
    return key >> 32, key & 0xFFFFFFFF


async def relay_holder(system: Instances, schema: str) -> str | None:
    """Which running instance holds `schema`'s relay lock (None while nobody does)."""
    classid, objid = _lock_ids(schema)
    conn = await asyncpg.connect(system.database_url)
    try:
        port = await conn.fetchval(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            classid, objid)
    finally:
        await conn.close()
    if port is None:
        return None
    owners = {name: proc.pid for name, proc in system.procs.items()}
    inode = _socket_inode(int(port))
    return next((n for n, pid in owners.items() if inode in _socket_inodes(pid)), None)


def _socket_inode(local_port: int) -> str | None:
    """The inode of the TCP socket bound locally to 127.0.0.1:`local_port` (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == local_port:
            return fields[9]
    return None


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(target[8:-1])
    return found
