"""A replicated three-broker cluster loses a broker mid-advisory: nothing lost, nothing doubled.

Topics are created with replication 3 and min.insync.replicas 2 from the services' own
settings; producers send with acks=all and idempotence; consumers follow the leaders that
move when a node is SIGKILLed in the middle of a 2,000-person advisory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.faults.cluster import KafkaCluster
from tests.faults.conftest import FAULTS_ENV
from tests.faults.crowd import callout, raise_incident, sent_count
from tests.faults.infra import PrivateInfra, brought_up
from tests.faults.scenes import fanout_under_way, served_once, statuses_back
from tests.system.harness import System, running_system

pytestmark = pytest.mark.faults

# Both inside 章贡区 (seat 25.82, 114.94), about 6 km apart: neither call reaches the other crowd.
ADVISORY_PLACE = (25.83, 114.90)
CALLOUT_PLACE = (25.80, 114.96)
CROWD = 2000
CLUSTER_ENV = {"BAIYING_KAFKA_REPLICATION_FACTOR": "3", "BAIYING_KAFKA_MIN_INSYNC_REPLICAS": "2"}


@pytest.fixture(scope="module")
def cluster(private_infra: PrivateInfra) -> Iterator[KafkaCluster]:
    with brought_up(KafkaCluster.from_env()) as kafka:
        yield kafka


@pytest.fixture(scope="module")
async def on_cluster(private_infra: PrivateInfra, cluster: KafkaCluster) -> AsyncIterator[System]:
    # Two senders at 80 msg/s each: the 2,000 take about 12 s, long enough to kill mid-way.
    env = {**FAULTS_ENV, **CLUSTER_ENV, "BAIYING_SENDER_MPS": "80"}
    async with running_system(private_infra.infra.admin_database_url, cluster.bootstrap,
                              env_extra=env) as system:
        yield system


async def topic_replication(system: System, cluster: KafkaCluster) -> dict[str, tuple[int, str]]:
    """Replicas per partition and min.insync.replicas of each of the System's topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(system.prefix)]
        described = await admin.describe_topics(names)
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        isr = {
            r[3]: {e[0]: e[1] for e in r[4]}.get("min.insync.replicas", "?")
            for c in configs for r in c.resources
        }
        return {
            t["topic"]: (min(len(p["replicas"]) for p in t["partitions"]), isr.get(t["topic"], "?"))
            for t in described
        }
    finally:
        await admin.close()


async def test_topics_are_replicated_from_settings(
    on_cluster: System, cluster: KafkaCluster
) -> None:
    seen = await topic_replication(on_cluster, cluster)
    assert seen and all(s == (3, "2") for s in seen.values()), seen


async def test_broker_killed_mid_advisory(on_cluster: System, cluster: KafkaCluster) -> None:
    system = on_cluster
    scene = await fanout_under_way(system, crowd=CROWD, near=ADVISORY_PLACE, sent=200, squad=30,
                                   squad_near=CALLOUT_PLACE, radius_m=3000, index_within=90)
    cluster.kill(1)  # the first bootstrap address, and leader of about a third of partitions
    at_kill = await sent_count(system, scene.crowd)
    assert at_kill < CROWD, "the broker must die while the advisory is still going out"
    raised = await raise_incident(system, callout(CALLOUT_PLACE, need=10))

    await served_once(system, scene.crowd, within=150, what="every advisory recipient served",
                      context=f"{at_kill} sent when node 1 died")
    await served_once(system, scene.squad, 20, within=60, what="call-out served")
    # Each delivery status applied once at the dispatcher: exactly n, not more.
    await statuses_back(system, raised["id"], 20, what="call-out statuses back at the dispatcher")
    await statuses_back(system, scene.advisory["id"], CROWD, within=90,
                        what="advisory statuses back at the dispatcher")
    await asyncio.to_thread(cluster.up)  # node 1 rejoins; the cluster ends whole
