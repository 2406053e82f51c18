"""Every sub-package is declared in pyproject.toml, so a built wheel is the tree that was tested.

The editable install finds undeclared sub-packages anyway, so nothing else would notice one
missing (baiying_notifier.campaigns was, for a while) until a wheel lacked it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_declared() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders: dict[str, str] = setuptools["package-dir"]
    found = {
        ".".join([name, *init.parent.relative_to(ROOT / folder).parts])
        for name, folder in folders.items()
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == set(setuptools["packages"])
