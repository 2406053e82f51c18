"""Optional py-spy profile of one process while a benchmark loads it.

Only when BAIYING_BENCH_PYSPY=1 (it needs ptrace rights). py-spy is in the dev group, so it
sits beside the interpreter in .venv/bin even when that folder is not on PATH. Writes collapsed
stacks under test-artifacts/bench/ and returns the frames that hold the most samples, so the
finding lands in the JSON.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench"


def _pyspy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def wanted() -> bool:
    return os.environ.get("BAIYING_BENCH_PYSPY") == "1" and _pyspy() is not None


def start(pid: int, *, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """Begin sampling `pid` for `seconds`; None when profiling is not wanted."""
    if not wanted():
        return None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.collapsed"
    return subprocess.Popen([str(_pyspy()), "record", "--pid", str(pid), "--duration",
                             str(max(1, round(seconds))), "--format", "raw", "--nonblocking",
                             "--output", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def finish(proc: subprocess.Popen[bytes] | None, *, name: str, top: int = 12) -> dict[str, Any]:
    """Wait for the sampler; the `top` frames by inclusive share of samples."""
    if proc is None:
        return {"profile": "skipped (set BAIYING_BENCH_PYSPY=1 with py-spy installed)"}
    proc.wait(120)
    path = ARTIFACTS / f"{name}.collapsed"
    if not path.exists():
        return {"profile": f"py-spy wrote nothing (exit {proc.returncode})"}
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            inclusive[frame] += n
    return {"profile": str(path.relative_to(ARTIFACTS.parents[1])), "samples": total,
            "top_inclusive": [{"frame": f, "share": round(n / total, 3)}
                              for f, n in inclusive.most_common(top)] if total else []}
