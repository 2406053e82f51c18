"""A private PostgreSQL + Kafka for the faults tests, started with the deploy/local scripts.

Faults stop and restart the broker and the database; doing that to the shared infra would
break every other test running against it, so these tests bring up their own pair under
.state/faults on other ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from tests.conftest import Infra

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "deploy" / "local"


class Startable(Protocol):
    def up(self) -> None: ...
    def down(self) -> None: ...


S = TypeVar("S", bound=Startable)


@contextmanager
def brought_up(thing: S) -> Iterator[S]:
    """`thing` up for the block, and down after it even when the block fails."""
    thing.up()
    try:
        yield thing
    finally:
        thing.down()


@dataclass(frozen=True)
class PrivateInfra:
    """One PostgreSQL and one Kafka broker this test package may stop, freeze and restart."""

    state: Path
    pg_port: int
    kafka_port: int
    controller_port: int

    @classmethod
    def from_env(cls) -> PrivateInfra:
        return cls(
            state=Path(os.environ.get("BAIYING_FAULTS_STATE_DIR", ROOT / ".state" / "faults")),
            pg_port=int(os.environ.get("BAIYING_FAULTS_PG_PORT", "15432")),
            kafka_port=int(os.environ.get("BAIYING_FAULTS_KAFKA_PORT", "19092")),
            controller_port=int(os.environ.get("BAIYING_FAULTS_KAFKA_CONTROLLER_PORT", "19093")),
        )

    @staticmethod
    def missing_tools() -> list[str]:
        """What deploy/local/postgres.sh and kafka.sh need and this machine lacks."""
        java = shutil.which("java") or next(Path("/usr/lib/jvm").glob("*/bin/java"), None)
        needs = {"PostgreSQL 15": Path("/usr/lib/postgresql/15/bin/postgres").exists(),
                 "java 17+": java is not None}
        return [name for name, present in needs.items() if not present]

    @property
    def infra(self) -> Infra:
        return Infra(
            admin_database_url=f"postgresql://baiying:baiying@127.0.0.1:{self.pg_port}/baiying",
            kafka_bootstrap=f"127.0.0.1:{self.kafka_port}",
        )

    def _run(self, script: str, action: str) -> None:
        env = {
            **os.environ,
            "BAIYING_STATE_DIR": str(self.state),
            "BAIYING_PG_PORT": str(self.pg_port),
            "BAIYING_KAFKA_PORT": str(self.kafka_port),
            "BAIYING_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "BAIYING_SKIP_INSTALL": "1",
        }
        done = subprocess.run(
            [str(SCRIPTS / script), action], env=env, capture_output=True, text=True, timeout=180
        )
        if done.returncode != 0:
            raise RuntimeError(f"{script} {action} failed:\n{done.stdout}\n{done.stderr}")

    def _seed_kafka_jars(self) -> None:
        # The jars are the same as the shared infra's; copying them spares a Maven run.
        mine, shared = self.state / "kafka" / "libs", ROOT / ".state" / "kafka" / "libs"
        if not mine.exists() and (shared / ".pom.sha256").exists():
            mine.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(shared, mine)

    def up(self) -> None:
        self.pg_start()
        self._seed_kafka_jars()
        self.kafka_start()

    def ensure_up(self) -> None:
        """Start whatever a failed test left stopped (cheap when both already listen)."""
        if not _listening(self.pg_port):
            self.pg_start()
        if not _listening(self.kafka_port):
            self.kafka_start()

    def down(self) -> None:
        self._run("kafka.sh", "down")
        self._run("postgres.sh", "down")

    def pg_start(self) -> None:
        self._run("postgres.sh", "up")

    def pg_stop(self) -> None:
        self._run("postgres.sh", "down")

    def kafka_start(self) -> None:
        try:
            self._run("kafka.sh", "up")
        except RuntimeError:
            # kafka.sh can misread /proc/<pid>/cmdline while the JVM is being exec'd and
            # report "exited during startup" for a live broker; a second `up` adopts it.
            self._run("kafka.sh", "up")

    def kafka_stop(self) -> None:
        self._run("kafka.sh", "down")

    def kafka_pid(self) -> int:
        return int((self.state / "run" / "kafka.pid").read_text().strip())

    def kafka_freeze(self) -> None:
        """SIGSTOP the broker: connections stay open, nothing is answered."""
        os.kill(self.kafka_pid(), signal.SIGSTOP)

    def kafka_thaw(self) -> None:
        os.kill(self.kafka_pid(), signal.SIGCONT)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0
