"""A private three-node Kafka cluster (deploy/local/kafka.sh with BAIYING_KAFKA_BROKERS=3).

It sits beside the faults package's private PostgreSQL on ports of its own, so a test may
SIGKILL one node while the single-broker faults and the rest of the suite carry on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"


@dataclass(frozen=True)
class KafkaCluster:
    state: Path
    base_port: int
    nodes: int = 3

    @classmethod
    def from_env(cls) -> KafkaCluster:
        return cls(
            state=Path(os.environ.get("BAIYING_CLUSTER_STATE_DIR", ROOT / ".state" / "cluster")),
            base_port=int(os.environ.get("BAIYING_CLUSTER_KAFKA_PORT", "29092")),
        )

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.base_port + 2 * i}" for i in range(self.nodes))

    def _run(self, action: str) -> str:
        env = {
            **os.environ,
            "BAIYING_STATE_DIR": str(self.state),
            "BAIYING_KAFKA_PORT": str(self.base_port),
            "BAIYING_KAFKA_CONTROLLER_PORT": str(self.base_port + 1),
            "BAIYING_KAFKA_BROKERS": str(self.nodes),
            # Three JVMs beside everything else on a small machine.
            "BAIYING_KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
        }
        done = subprocess.run([str(KAFKA_SH), action], env=env, capture_output=True, text=True,
                              timeout=240)
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {action} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def up(self) -> None:
        """Start every node that is not running (all of them the first time)."""
        mine, shared = self.state / "kafka" / "libs", ROOT / ".state" / "kafka" / "libs"
        if not mine.exists() and (shared / ".pom.sha256").exists():
            mine.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(shared, mine)  # the same jars: spare a Maven run
        self._run("up")

    def down(self) -> None:
        self._run("down")

    def pid(self, node: int) -> int:
        return int((self.state / "run" / f"kafka-{node}.pid").read_text().strip())

    def kill(self, node: int) -> None:
        """SIGKILL one node: no controlled shutdown, its partitions lose their leader."""
        os.kill(self.pid(node), signal.SIGKILL)
