"""The production notifier never imports the SMS sandbox (a test double) package."""

from __future__ import annotations

import subprocess
import sys


def test_notifier_app_imports_no_sandbox_module() -> None:
    probe = (
        "import sys, baiying_notifier.app, baiying_notifier.config; "
        "print(sorted(m for m in sys.modules if m.startswith('baiying_sandbox')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
