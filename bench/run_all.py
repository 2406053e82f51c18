"""Every benchmark, one JSON document on stdout (progress on stderr).

    make bench                       # python3 -m bench.run_all
    python3 -m bench.run_all --quick # smaller sizes for a busy or small machine
    python3 -m bench.run_all --only raise_to_sms,paced_fanout

Each benchmark runs in a process of its own (a crash or a leak stays there) against
BAIYING_DATABASE_URL / BAIYING_KAFKA_BOOTSTRAP, on throwaway databases and topic prefixes.
Every figure is reported beside the limit it approaches, measured in the same run, so the
ratios hold on a noisy machine. Benchmarks are not tests and never gate CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import machine
from bench.stats import progress
from bench.summary import ratios

ROOT = Path(__file__).resolve().parents[1]
FULL = {"incidents": 200, "fanout": 10_000, "paced": 3000, "volunteers": 1_000_000,
        "replies": 500, "staffed": 30, "advisory": 10_000, "import_rows": 1_000_000,
        "rtt": 300}
QUICK = {"incidents": 200, "fanout": 3000, "paced": 1500, "volunteers": 200_000,
         "replies": 300, "staffed": 30, "advisory": 3000, "import_rows": 200_000, "rtt": 300}
# The carrier engineer's benchmark: included (with its own defaults) once it is there.
URGENT = ROOT / "bench" / "urgent_during_advisory.py"


def commands(size: dict[str, int]) -> dict[str, list[str]]:
    """Benchmark name -> the command that prints its JSON."""
    py = sys.executable
    found = {"urgent_during_advisory": [py, "-m", "bench.urgent_during_advisory"]
             } if URGENT.exists() else {}
    return {
        "broker_rtt": [py, "-m", "bench.broker_rtt", "--messages", str(size["rtt"])],
        "outbox_hop": [py, "-m", "bench.outbox_hop", "--events", str(size["rtt"])],
        "raise_to_sms": [py, "-m", "bench.raise_to_sms", "--incidents", str(size["incidents"])],
        "notify_fanout": [py, "bench/notify_fanout.py", "--recipients", str(size["fanout"])],
        "paced_fanout": [py, "-m", "bench.paced_fanout", "--recipients", str(size["paced"])],
        "dispatch_select": [py, "bench/dispatch_select.py", "--volunteers",
                            str(size["volunteers"]), "--queries", "300"],
        "replies": [py, "-m", "bench.replies", "--replies", str(size["replies"]),
                    "--staffed", str(size["staffed"]), "--advisory", str(size["advisory"])],
        "registry_import": [py, "bench/registry_import.py", "--rows", str(size["import_rows"])],
        **found,
    }


def _last_json(stdout: str) -> dict[str, Any]:
    """The last JSON object printed (a stray log line before it must not spoil the result)."""
    decoder, found = json.JSONDecoder(), None
    for i, char in enumerate(stdout):
        if char == "{" and (i == 0 or stdout[i - 1] == "\n"):
            try:
                found, _ = decoder.raw_decode(stdout[i:])
            except ValueError:
                continue
    if not isinstance(found, dict):
        raise ValueError(f"no JSON object in output: {stdout[-300:]!r}")
    return found


def run_one(name: str, command: list[str], timeout: float) -> dict[str, Any]:
    progress(f"{name}: {' '.join(command[1:])}")
    t0 = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    wall = round(time.perf_counter() - t0, 1)
    progress(f"{name}: done in {wall}s (exit {done.returncode})")
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}", "wall_s": wall}
    try:
        return {**_last_json(done.stdout), "wall_s": wall}
    except ValueError as exc:
        return {"error": str(exc), "wall_s": wall}


def main(args: argparse.Namespace) -> dict[str, Any]:
    size = dict(QUICK if args.quick else FULL)
    for key in size:
        if getattr(args, key, None):
            size[key] = getattr(args, key)
    wanted = commands(size)
    if args.only:
        wanted = {k: v for k, v in wanted.items() if k in args.only.split(",")}
    url = os.environ.get("BAIYING_DATABASE_URL",
                         "postgresql://baiying:baiying@127.0.0.1:5432/baiying")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results = {name: run_one(name, cmd, args.timeout) for name, cmd in wanted.items()}
    return {"started_at": started, "machine": asyncio.run(machine(url)),
            "sizes": size, "quick": args.quick, "summary": ratios(results),
            "results": results}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (see QUICK)")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--timeout", type=float, default=1800, help="per benchmark, seconds")
    for key in FULL:
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    print(json.dumps(main(parser.parse_args()), indent=2, ensure_ascii=False))
