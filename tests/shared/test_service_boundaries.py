"""No service imports another service's code: what they share lives in baiying_shared.

Data crosses services only as events; code that two of them need (the SMS text and segment
rules, which the dispatcher's campaign dry run and the sandbox's billing both count) belongs
in shared/, or a change to one service silently changes another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "baiying_registry": "services/registry",
    "baiying_dispatcher": "services/dispatcher",
    "baiying_notifier": "services/notifier",
    "baiying_sandbox": "services/sandbox",
}
# The consoles are pages the dispatcher serves, and the CLI starts every service.
MAY_IMPORT = {"baiying_dispatcher": {"baiying_consoles"}}


def imported(path: Path) -> set[str]:
    """Top-level package names `path` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_a_service_imports_no_other_service(package: str) -> None:
    others = {p for p in SERVICES if p != package} | {"baiying_consoles", "baiying_cli"}
    allowed = MAY_IMPORT.get(package, set())
    crossing = {
        str(path.relative_to(ROOT)): sorted((imported(path) & others) - allowed)
        for path in (ROOT / SERVICES[package]).rglob("*.py")
    }
    assert {p: names for p, names in crossing.items() if names} == {}
