"""wrk as the load generator: a compiled client whose own ceiling is measured, not assumed.

`run(url, requests=…)` rotates pre-built requests (each thread takes its own stride, so no
two requests repeat until the list wraps) and returns wrk's own summary as a dict.
`client_ceiling()` points the same wrk at a bare asyncio responder in another process:
whatever rate wrk reaches there is the most it could show against any server here, so a
figure close to it says "the client was the bottleneck" and no ratio is reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.stats import progress

# A request wrk sends: method, path, headers, body.
Request = tuple[str, str, dict[str, str], str]

_LUA = r"""
local counter, threads = 0, {}
function setup(thread)
  thread:set("id", counter); counter = counter + 1; table.insert(threads, thread)
end
function init(args)
  reqs = {}
  for line in io.lines(args[1]) do
    local method, path, hdrs, body = line:match("^(%S+)\t(%S+)\t([^\t]*)\t(.*)$")
    local headers = {}
    for k, v in hdrs:gmatch("([^=;]+)=([^;]*)") do headers[k] = v end
    table.insert(reqs, wrk.format(method, path, headers, body))
  end
  step = tonumber(args[2]); i = id + 1; sent = 0
end
function request()
  local r = reqs[i]; i = i + step; sent = sent + 1
  if i > #reqs then i = (i - 1) % #reqs + 1; wrapped = true end
  return r
end
function done(summary, latency, requests)
  local wraps = 0
  for _, t in ipairs(threads) do if t:get("wrapped") then wraps = wraps + 1 end end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, "threads_wrapped": %d,'
    .. ' "latency_ms": {"p50": %.3f, "p99": %.3f, "max": %.3f}}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    wraps, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, *, requests: Sequence[Request], seconds: float = 5.0, connections: int = 64,
        threads: int = 2) -> dict[str, Any]:
    """Drive `url` (scheme://host:port) with `requests` in rotation; wrk's summary plus rate."""
    with tempfile.TemporaryDirectory(prefix="baiying-wrk-") as tmp:
        script, data = Path(tmp, "rotate.lua"), Path(tmp, "requests.tsv")
        script.write_text(_LUA)
        data.write_text("".join(_line(r) for r in requests))
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--latency", "-s", str(script), url, "--", str(data), str(threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                             check=True).stdout
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    summary["per_s"] = round(summary["requests"] / (summary["duration_us"] / 1e6), 1)
    summary.update(connections=connections, threads=threads, distinct_requests=len(requests))
    return summary


def _line(r: Request) -> str:
    method, path, headers, body = r
    hdrs = ";".join(f"{k}={v}" for k, v in headers.items())
    return f"{method}\t{path}\t{hdrs}\t{body}\n"


_RESPONDER = """
import asyncio, sys
REPLY = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nContent-Type: text/plain\\r\\n\\r\\nok"
class P(asyncio.Protocol):
    def connection_made(self, t): self.t = t
    def data_received(self, data):
        self.t.write(REPLY * data.count(b"\\r\\n\\r\\n"))
async def main():
    server = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


@contextmanager
def _responder() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", _RESPONDER], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{proc.stdout.readline().strip()}"
    finally:
        proc.kill()
        proc.wait(10)


def client_ceiling(*, seconds: float = 3.0, connections: int = 64) -> dict[str, Any]:
    """wrk's rate against a responder that does no work: the most this client can show."""
    progress("wrk: measuring the client's own ceiling against a bare responder")
    with _responder() as url:
        got = run(url, requests=[("GET", "/", {}, "")], seconds=seconds,
                  connections=connections)
    return {"per_s": got["per_s"], "latency_ms": got["latency_ms"],
            "against": "bare asyncio responder in another process (a lower bound)"}


def client_bound(rate: float, ceiling: float, *, margin: float = 0.7) -> bool:
    """True when `rate` is within reach of the client's ceiling: the client may be the limit."""
    return rate >= margin * ceiling
