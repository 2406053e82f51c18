"""deploy/k8s: every manifest valid for Kubernetes, and consistent with the code it runs.

Schemas come from kubernetes-validate (shipped in the package, offline). KEDA's ScaledObject
is a custom resource outside those schemas, so its fields are checked against what the
services really consume: the consumer groups, topics and partition counts in the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from pydantic_settings import BaseSettings

from baiying_cli.catalog import SERVICES
from baiying_dispatcher.config import DispatcherSettings
from baiying_notifier.config import NotifierSettings
from baiying_registry.config import RegistrySettings
from baiying_sandbox.config import SandboxSettings
from baiying_shared.events.catalogue import TOPICS
from tests.deploy.kustomize import Doc, containers, named, pod_specs, render

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
KUBERNETES_VERSION = "1.30.0"
SETTINGS: tuple[type[BaseSettings], ...] = (
    RegistrySettings, DispatcherSettings, NotifierSettings, SandboxSettings,
)
# The consumer groups the services join (see each service's consumers module).
GROUP_TOPICS = {
    "dispatcher": ("notify.deliveries.v1", "notify.replies.v1"),
    "notifier": ("dispatch.callouts.v1",),
}


@pytest.fixture(scope="module", params=OVERLAYS)
def docs(request: pytest.FixtureRequest) -> list[Doc]:
    return render(K8S / "overlays" / request.param)


def test_every_core_resource_validates_against_the_kubernetes_schema(docs: list[Doc]) -> None:
    core = [d for d in docs if not d["apiVersion"].startswith("keda.sh/")]
    assert core and len(core) == len(docs) - len(named(docs, "ScaledObject"))
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_each_service_runs_replicated_with_probes_requests_and_a_budget(docs: list[Doc]) -> None:
    deployments = named(docs, "Deployment")
    budgets = list(named(docs, "PodDisruptionBudget").values())
    for name in ("registry", "dispatcher", "notifier"):
        dep = deployments[f"baiying-{name}"]
        assert dep["spec"]["replicas"] >= 2, name
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["args"][:2] == ["serve", name]
        assert int(container["args"][container["args"].index("--port") + 1]) == SERVICES[name].port
        port_names = {p["name"] for p in container["ports"]}
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] in port_names
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        assert _selects(dep["spec"]["selector"]["matchLabels"], pod_labels)
        budget = [b for b in budgets if _selects(b["spec"]["selector"]["matchLabels"], pod_labels)]
        assert budget, f"no PodDisruptionBudget covers {name}"


def test_services_and_budgets_select_pods_that_exist(docs: list[Doc]) -> None:
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in named(docs, "Deployment").values()]
    for svc in named(docs, "Service").values():
        assert any(_selects(svc["spec"]["selector"], p) for p in pods), svc["metadata"]["name"]
    for pdb in named(docs, "PodDisruptionBudget").values():
        assert any(_selects(pdb["spec"]["selector"]["matchLabels"], p) for p in pods)


def test_config_and_secrets_referenced_exist_and_name_real_settings(docs: list[Doc]) -> None:
    maps, secrets = named(docs, "ConfigMap"), named(docs, "Secret")
    for _, pod in pod_specs(docs):
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source["secretRef"]
                assert ref["name"] in (maps if "configMapRef" in source else secrets)
            for env in container.get("env", []):
                key_ref = env["valueFrom"]["secretKeyRef"]
                assert key_ref["key"] in secrets[key_ref["name"]]["stringData"]
                assert env["name"] in _setting_names()
    keys = [k for m in maps.values() for k in m["data"]]
    keys += [k for s in secrets.values() for k in s["stringData"]]
    unknown = sorted(set(keys) - _setting_names())
    assert not unknown, f"not a setting of any service (typo?): {unknown}"


def test_lag_autoscaling_watches_the_groups_and_topics_the_services_consume(
    docs: list[Doc],
) -> None:
    deployments = named(docs, "Deployment")
    partitions = {t.name: t.partitions for t in TOPICS}
    scaled = named(docs, "ScaledObject")
    assert set(scaled) == {"baiying-dispatcher", "baiying-notifier"}
    for name, obj in scaled.items():
        spec = obj["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        kafka = [t for t in spec["triggers"] if t["type"] == "kafka"]
        assert [t["type"] for t in spec["triggers"]].count("cpu") == 1, "CPU is the fallback"
        (trigger,) = kafka
        group = trigger["metadata"]["consumerGroup"]
        assert group in GROUP_TOPICS and name == f"baiying-{group}"
        topics = GROUP_TOPICS[group]
        if "topic" in trigger["metadata"]:
            assert trigger["metadata"]["topic"] in topics
        # More consumers than partitions would sit idle.
        assert 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["maxReplicaCount"] <= min(partitions[t] for t in topics)
        assert int(trigger["metadata"]["lagThreshold"]) > 0
        bootstrap = named(docs, "ConfigMap")["baiying-config"]["data"]["BAIYING_KAFKA_BOOTSTRAP"]
        assert trigger["metadata"]["bootstrapServers"] == bootstrap


def test_group_ids_match_the_consumers_the_services_start() -> None:
    from baiying_dispatcher import consumers as dispatcher_consumers
    from baiying_notifier import consumers as notifier_consumers

    assert dispatcher_consumers.RESPONSES_GROUP == "dispatcher"
    assert notifier_consumers.GROUP == "notifier"
    consumed = {c for t in TOPICS for c in t.consumers}
    for topics in GROUP_TOPICS.values():
        for topic in topics:
            assert topic in {t.name for t in TOPICS}
    assert {"dispatcher", "notifier"} <= consumed


def test_migrations_run_once_as_a_job_and_images_are_pinned(docs: list[Doc]) -> None:
    (job,) = named(docs, "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    images = {c["image"] for c in containers(docs)}
    assert len(images) == 1 and all(":" in i and not i.endswith(":latest") for i in images)


def test_the_sandbox_only_in_staging_as_a_single_replica() -> None:
    staging = named(render(K8S / "overlays" / "staging"), "Deployment")
    production = named(render(K8S / "overlays" / "production"), "Deployment")
    assert staging["baiying-sandbox"]["spec"]["replicas"] == 1
    assert staging["baiying-sandbox"]["spec"]["strategy"]["type"] == "Recreate"
    assert "baiying-sandbox" not in production


def test_a_broken_manifest_is_refused() -> None:
    """The validator really checks: a Deployment without a selector fails."""
    dep = named(render(K8S / "overlays" / "production"), "Deployment")["baiying-registry"]
    del dep["spec"]["selector"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, KUBERNETES_VERSION, strict=True)


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _setting_names() -> set[str]:
    names = set()
    for cls in SETTINGS:
        prefix = str(cls.model_config.get("env_prefix", ""))
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names
