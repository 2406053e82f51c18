"""Inbound replies: signed webhook replies per second, and reply-to-staffed latency.

    python3 -m bench.replies [--replies 500] [--staffed 30] [--concurrency 16] [--advisory 10000]

Replies per second: one incident calls `--replies` people; each answers "1" through the
notifier's Twilio webhook, signed as Twilio signs (the signature is checked on every one),
`--concurrency` at a time; beside it, the same process's bare GET /healthz rate.
Reply-to-staffed: incidents needing one person, one at a time; the first person alerted
replies "1" and the clock runs until the dispatcher reports the incident staffed; then the
same again while an advisory to `--advisory` other people is being sent (the urgent path must
not queue behind it; the advisory's progress at the end says whether it was still sending).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS
from bench import profile, wrk
from bench.stats import percentiles, progress, ratio
from bench.system import created, desk, incident_body, running_system
from tests.faults.crowd import add_crowd, advisory, indexed
from tests.support import eventually
from tests.system.harness import System

CROWD = (25.80, 114.90)  # both inside the desk's district (章贡区), ~11 km apart
SINGLES = (25.88, 114.97)
ADVISED = (25.76, 115.06)  # the advisory's crowd, away from both
# Per sender: the advisory takes tens of seconds (a carrier's pace), the 500 alerts a second.
SENDER_MPS = 300
INBOUND = "/v1/webhooks/twilio/inbound"


def _signed_reply(system: System, phone: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": DEV_ACCOUNT_SID,
            "From": phone, "To": "+8610655590001", "Body": body}
    signature = RequestValidator(DEV_AUTH_TOKEN).compute_signature(
        system.notifier_url + INBOUND, form)
    return form, {"X-Twilio-Signature": signature}


async def _rate(n: int, concurrency: int, call: Any) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


async def _alerted(system: System, sandbox: httpx.AsyncClient, count: int) -> list[str]:
    await eventually(lambda: _at_least(sandbox, count), timeout=300, what="alerts out")
    return [p["number"] for p in (await sandbox.get("/v1/phones")).json() if p["received"]]


async def _at_least(sandbox: httpx.AsyncClient, count: int) -> bool:
    return await created(sandbox) >= count


async def replies_per_second(system: System, n: int, concurrency: int) -> dict[str, Any]:
    progress(f"replies: {n} people called by one incident")
    crowd = await add_crowd(system, n, near=CROWD)
    await eventually(lambda: indexed(system, crowd), timeout=300, interval=0.5, what="index")
    body = incident_body("基准回复", CROWD, need={"total": n // 2}, radius_m=8000)
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=60) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10) as sandbox,
                httpx.AsyncClient(base_url=system.notifier_url, timeout=30) as notifier):
        made = await api.post("/v1/incidents", json=body)
        if made.status_code != 201:
            raise RuntimeError(f"incident refused: {made.status_code} {made.text}")
        phones = await _alerted(system, sandbox, n)
        statuses: list[int] = []

        async def reply(i: int) -> None:
            form, headers = _signed_reply(system, phones[i], "1")
            statuses.append((await notifier.post(INBOUND, data=form, headers=headers)).status_code)

        async def health(_: int) -> None:
            (await notifier.get("/healthz")).raise_for_status()

        progress(f"replies: {len(phones)} signed replies, {concurrency} at a time")
        rate = await _rate(len(phones), concurrency, reply)
        bare = await _rate(len(phones), concurrency, health)
        by_wrk = await replies_by_wrk(system, phones, seconds=5)
    return {"replies": len(phones), "concurrency": concurrency,
            "python_client": {"replies_per_s": round(rate, 1), "all_200": set(statuses) == {200},
                              "bare_healthz_per_s": round(bare, 1),
                              "note": "httpx in one process: its own ceiling, not the system's"},
            "wrk": by_wrk}


def _presigned(system: System, phones: list[str], count: int) -> list[wrk.Request]:
    """`count` distinct signed inbound replies ("1"), rotating over `phones`."""
    made: list[wrk.Request] = []
    for i in range(count):
        form, headers = _signed_reply(system, phones[i % len(phones)], "1")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        made.append(("POST", INBOUND, headers, urlencode(form)))
    return made


async def replies_by_wrk(system: System, phones: list[str], seconds: float) -> dict[str, Any]:
    """Signed replies/s and bare /healthz/s from wrk, beside wrk's own ceiling."""
    if not wrk.available():
        return {"wrk": "not installed (deploy/local/install.sh installs it)"}
    ceiling = await asyncio.to_thread(wrk.client_ceiling)
    # Enough distinct MessageSids that the webhook's dedupe never short-cuts a request.
    signed = _presigned(system, phones, int(seconds * 3000))
    progress(f"replies: wrk, {len(signed)} distinct signed replies for {seconds:.0f} s")
    sampler = profile.start(system.procs["notifier"].pid, name="replies-notifier",
                            seconds=seconds)
    got = await asyncio.to_thread(wrk.run, system.notifier_url, requests=signed,
                                  seconds=seconds)
    profiled = await asyncio.to_thread(profile.finish, sampler, name="replies-notifier")
    bare = await asyncio.to_thread(wrk.run, system.notifier_url,
                                   requests=[("GET", "/healthz", {}, "")], seconds=seconds)
    out: dict[str, Any] = {"signed_replies": got, "bare_healthz": bare,
                           "client_ceiling": ceiling, "notifier_profile": profiled}
    # The bare rate is the limit only if wrk could go faster than it; else no ratio.
    if wrk.client_bound(bare["per_s"], ceiling["per_s"]):
        out["replies_vs_bare_http"] = None
        out["refused"] = "bare /healthz is within 70% of wrk's own ceiling: the client limits"
    else:
        out["replies_vs_bare_http"] = ratio(got["per_s"], bare["per_s"])
    out["replies_per_s_limit"] = {"target": 1000, "met": got["per_s"] >= 1000}
    return out


async def _staffed(api: httpx.AsyncClient, incident_id: str) -> bool:
    return bool((await api.get(f"/v1/incidents/{incident_id}")).json()["status"] == "staffed")


async def reply_to_staffed(system: System, incidents: int, crowd: list[str]) -> dict[str, Any]:
    """Reply-to-staffed over `incidents` one-person incidents among `crowd` (already indexed);
    also raise -> alert seen at the sandbox. An alert not out in 30 s is counted, not waited
    for (behind an advisory it may take minutes); three such and the rest are skipped."""
    rnd, samples, alerts, missed = random.Random(5), [], [], 0
    marks: list[tuple[str, float, float]] = []
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=60) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10,
                                  auth=(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)) as sandbox):
        for _ in range(incidents):
            if missed >= 3:
                break
            point = (SINGLES[0] - rnd.uniform(0, 0.0004 * len(crowd) / 32),
                     SINGLES[1] - rnd.uniform(0, 0.0128))
            tag = f"基准到岗{uuid.uuid4().hex[:6]}"
            raised = time.perf_counter()
            r = await api.post("/v1/incidents", json=incident_body(tag, point))
            r.raise_for_status()
            try:
                alerted = await eventually(partial(_alerted_by, sandbox, tag), timeout=30,
                                           what=f"an alert of {tag}")
            except AssertionError:
                missed += 1
                continue
            t0, wall = time.perf_counter(), time.time()
            alerts.append((t0 - raised) * 1000)
            await sandbox.post(f"/v1/phones/{alerted}/reply", json={"body": "1"})
            # A minute, not eventually's 20 s: a stall on a loaded box is a figure (the max),
            # not a reason to lose the whole benchmark.
            await eventually(partial(_staffed, api, r.json()["id"]), interval=0.005,
                             timeout=60, what=f"{tag} staffed")
            samples.append((time.perf_counter() - t0) * 1000)
            marks.append((r.json()["id"], wall, wall + samples[-1] / 1000))
    return {"incidents": incidents, "alerts_not_out_in_30s": missed,
            "raise_to_alert_seen": percentiles(alerts) if alerts else None,
            "reply_to_staffed": percentiles(samples) if samples else None,
            "reply_stages": await _stages(system, marks)}


# Where a reply's time goes, from the rows it leaves (read after the run, so the reading
# does not load the path): the notifier's outbox row of the reply (webhook handled), its
# publication (relay), the dispatcher's inbox claim (Kafka and its consumer: the claim's
# now() is when the dispatcher's transaction began), and the incident seen staffed.
_STAGES = """
SELECT extract(epoch FROM o.created_at), extract(epoch FROM o.published_at),
       extract(epoch FROM p.processed_at)
FROM notifier.outbox o JOIN dispatcher.processed_events p ON p.event_id = o.event_id
WHERE o.topic LIKE '%replies%' AND convert_from(o.value, 'UTF8') LIKE '%' || $1 || '%'
ORDER BY o.id LIMIT 1
"""


async def _stages(system: System, marks: list[tuple[str, float, float]]) -> dict[str, Any]:
    names = ("webhook", "relay", "kafka_to_dispatcher", "dispatcher_to_seen")
    got: dict[str, list[float]] = {n: [] for n in names}
    conn = await asyncpg.connect(system.database_url)
    try:
        for incident_id, sent, seen in marks:
            row = await conn.fetchrow(_STAGES, incident_id)
            if row is None or row[1] is None:
                continue
            points = (sent, float(row[0]), float(row[1]), float(row[2]), seen)
            for name, a, b in zip(names, points, points[1:], strict=False):
                got[name].append((b - a) * 1000)
    finally:
        await conn.close()
    return {n: percentiles(v) for n, v in got.items() if v}


async def _alerted_by(sandbox: httpx.AsyncClient, tag: str) -> str | None:
    """Who got the alert titled `tag`: among the newest messages (an advisory may be sending)."""
    page = await sandbox.get(f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json",
                             params={"PageSize": 1000})
    for message in page.json()["messages"]:
        if tag in message["body"] and "紧急召集" in message["body"]:
            return str(message["to"])
    return None


async def _drain(system: System, *, settle_s: float = 2.0, limit_s: float = 600) -> float:
    """Seconds until the dispatcher has absorbed the reply flood: its inbox stops growing.

    The replies above (thousands, to one 500-person incident) queue in the dispatcher's
    consumer; a reply-to-staffed measured behind that queue times the queue, not the path.
    """
    conn = await asyncpg.connect(system.database_url)
    t0, last = time.perf_counter(), -1
    try:
        while (n := await conn.fetchval("SELECT count(*) FROM dispatcher.processed_events")
               ) != last and time.perf_counter() - t0 < limit_s:
            last = n
            await asyncio.sleep(settle_s)  # a bench, not a test: "still growing" needs a gap
    finally:
        await conn.close()
    return round(time.perf_counter() - t0 - settle_s, 1)


async def staffed_idle_and_during_advisory(system: System, incidents: int, advised: int
                                           ) -> dict[str, Any]:
    """Reply-to-staffed on an idle system, then while an advisory to `advised` is sent."""
    crowd = await add_crowd(system, 8 * incidents, near=SINGLES)
    await eventually(lambda: indexed(system, crowd), timeout=300, interval=0.5, what="index")
    drained = await _drain(system)
    progress(f"replies: dispatcher absorbed the replies {drained} s later; reply-to-staffed"
             f" over {incidents} incidents, idle")
    idle = {**await reply_to_staffed(system, incidents, crowd), "reply_flood_drain_s": drained}
    if not advised:
        return idle
    progress(f"replies: advisory crowd of {advised}")
    others = await add_crowd(system, advised, near=ADVISED)
    await eventually(lambda: indexed(system, others), timeout=600, interval=1, what="index")
    async with (httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk(system),
                                  timeout=60) as api,
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=10) as sandbox):
        before = await created(sandbox)
        centre = (ADVISED[0] - 0.0002 * advised / 32, ADVISED[1] - 0.0064)
        (await api.post("/v1/incidents", json=advisory(centre, radius_m=12000))
         ).raise_for_status()
        await eventually(lambda: _at_least(sandbox, before + 1), timeout=120, what="advisory")
        progress(f"replies: reply-to-staffed over {incidents} incidents during the advisory")
        # Where the dispatcher's time goes while the advisory's statuses come back (py-spy).
        sampler = profile.start(system.procs["dispatcher"].pid, name="replies-dispatcher",
                                seconds=8)
        during = await reply_to_staffed(system, incidents, crowd)
        out = await created(sandbox) - before - incidents
        profiled = await asyncio.to_thread(profile.finish, sampler, name="replies-dispatcher")
    return {**idle, "during_advisory": {
        **during, "dispatcher_profile": profiled, "advisory_recipients": advised,
        "advisory_sent_by_then": out,
        "advisory_still_sending": out < advised, "sender_mps": SENDER_MPS,
        "senders": len(DEV_SENDERS), "target_p99_ms": 200}}


async def run(replies: int = 500, staffed: int = 30, concurrency: int = 16,
              advised: int = 10_000) -> dict[str, Any]:
    async with running_system(BAIYING_SENDER_MPS=str(SENDER_MPS)) as system:
        rate = await replies_per_second(system, replies, concurrency)
        latency = await staffed_idle_and_during_advisory(system, staffed, advised)
    return {"benchmark": "replies", **rate, **latency}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--staffed", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--advisory", type=int, default=10_000, help="0: skip that part")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.replies, args.staffed, args.concurrency,
                                     args.advisory)), indent=2))
