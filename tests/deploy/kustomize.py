"""Render deploy/k8s the way `kubectl kustomize` does, for the subset the project uses.

Only `resources`, `namespace` and `images` are understood; a kustomization with any other
field fails loudly, so the manifests cannot quietly grow features this renderer ignores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]
KNOWN_FIELDS = frozenset({"apiVersion", "kind", "resources", "namespace", "images"})
# Kinds that live outside any namespace (the namespace transformer leaves them alone).
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding"})


def render(folder: Path) -> list[Doc]:
    """Every document the kustomization in `folder` produces, transformers applied."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(spec) - KNOWN_FIELDS
    if unknown:
        raise ValueError(f"{folder}: kustomization fields not rendered here: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        docs += render(path) if path.is_dir() else _load(path)
    if ns := spec.get("namespace"):
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = ns
    for image in spec.get("images", []):
        _retag(docs, image)
    return docs


def _load(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _retag(docs: list[Doc], image: dict[str, str]) -> None:
    target = f"{image['newName']}:{image['newTag']}"
    for container in containers(docs):
        if container["image"] == image["name"]:
            container["image"] = target


def pod_specs(docs: list[Doc]) -> list[tuple[Doc, Doc]]:
    """(owner, pod spec) for every Deployment and Job."""
    return [(d, d["spec"]["template"]["spec"]) for d in docs if d["kind"] in ("Deployment", "Job")]


def containers(docs: list[Doc]) -> list[Doc]:
    return [c for _, pod in pod_specs(docs) for c in pod["containers"]]


def named(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}
