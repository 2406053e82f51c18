"""The limits above notify_fanout's figures: wrk's own ceiling, the sandbox's create ceiling
under wrk, each process's share of a core, the ratios (refused where the sandbox limits),
and the notifier's hottest frames from a py-spy sample."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS
from bench import profile, wrk
from bench.stats import progress, ratio

BODY = "【一呼百应】基准测试 benchmark"


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Busy:
    """How much of one core each process used over a span (1.0: a core saturated)."""

    def __init__(self, **pids: int) -> None:
        self._pids, self._t0 = pids, time.perf_counter()
        self._cpu0 = {k: cpu_s(p) for k, p in pids.items()}

    def used_s(self) -> dict[str, float]:
        """CPU seconds each process used since the start."""
        return {k: cpu_s(p) - self._cpu0[k] for k, p in self._pids.items()}

    def shares(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        return {k: round((cpu_s(p) - self._cpu0[k]) / wall, 2) for k, p in self._pids.items()}


_OURS = ("notifier/", "shared/", "sandbox/")


def hottest(found: dict[str, Any], top: int = 15) -> dict[str, Any]:
    """Beside profile.finish's inclusive roots: the frames that burn the samples themselves
    (self) and the project's own frames by inclusive share, which say where to look."""
    path = profile.ARTIFACTS.parents[1] / str(found.get("profile", ""))
    if "samples" not in found or not path.is_file():
        return found
    own, ours, total = Counter[str](), Counter[str](), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            if frame.partition("(")[2].startswith(_OURS):
                ours[frame] += n
    def share(c: Counter[str]) -> list[dict[str, Any]]:
        return [{"frame": f, "share": round(n / total, 3)} for f, n in c.most_common(top)]
    return {**found, "top_self": share(own), "top_project_inclusive": share(ours)}


def _creates(count: int) -> list[wrk.Request]:
    """`count` distinct url-encoded creates with Basic auth, as the twilio library sends them."""
    auth = "Basic " + base64.b64encode(f"{DEV_ACCOUNT_SID}:{DEV_AUTH_TOKEN}".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    path = f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json"
    return [
        ("POST", path, headers,
         urlencode({"To": f"+86135{i:08d}", "From": DEV_SENDERS[i % 2], "Body": BODY}))
        for i in range(count)
    ]


async def ceilings(sandbox: str, *, seconds: float, connections: int) -> dict[str, Any]:
    """wrk's own ceiling, then the sandbox's create rate under wrk (None: wrk missing)."""
    if not wrk.available():
        return {"client_ceiling": None, "sandbox_ceiling": None,
                "note": "wrk not installed (deploy/local/install.sh installs it)"}
    client = await asyncio.to_thread(wrk.client_ceiling, connections=connections)
    progress(f"notify_fanout: wrk on the sandbox's create for {seconds:.0f} s")
    got = await asyncio.to_thread(wrk.run, sandbox, requests=_creates(int(seconds * 6000)),
                                  seconds=seconds, connections=connections)
    got["client_bound"] = wrk.client_bound(got["per_s"], client["per_s"])
    if got["client_bound"]:
        got["note"] = "within 70% of wrk's own ceiling: a lower bound of the sandbox's limit"
    return {"client_ceiling": client, "sandbox_ceiling": got}


def verdict(raw: dict[str, Any], fan: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """The ratios, each refused where the thing below it is the bottleneck instead."""
    sandbox = (limits.get("sandbox_ceiling") or {}).get("per_s")
    out: dict[str, Any] = {
        "raw_vs_sandbox_ceiling": ratio(raw["per_second"], sandbox) if sandbox else None,
        "fanout_vs_sandbox_ceiling": ratio(fan["per_second"], sandbox) if sandbox else None,
        "fanout_vs_raw": ratio(fan["per_second"], raw["per_second"]),
        "target_fanout_vs_raw": 0.8,
    }
    if sandbox is None:
        out["fanout_vs_raw_note"] = "sandbox ceiling unmeasured (no wrk): the sandbox may limit"
    elif raw["per_second"] >= 0.8 * sandbox or raw["core_share"]["sandbox"] >= 0.9:
        out["refused"] = ("the sandbox limits the raw rate (within 80% of its wrk ceiling, or "
                          "busy 90% of a core during it)")
        out["fanout_vs_raw"] = None
    return out
