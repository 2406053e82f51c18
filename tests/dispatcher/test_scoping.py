"""A supervisor of one district never sees another's incident: not in lists, details or stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from baiying_shared.auth import Role, mint_token
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n, raise_incident
from tests.support import eventually

ZHANGGONG, NANKANG = "360702", "360703"


@contextlib.asynccontextmanager
async def listening(
    system: System, *districts: str, role: Role = "supervisor", token: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Collect a supervisor's (or `role`'s, or `token`'s) stream, opened as the consoles'
    EventSource opens it: the token buys a ticket, the ticket rides in the URL."""
    token = token or mint_token(system.settings, sub=f"{role}-{districts}", role=role,
                                districts=list(districts))
    seen: list[dict[str, Any]] = []
    connected = asyncio.Event()

    async def read() -> None:
        async with httpx.AsyncClient(base_url=system.url, timeout=None) as c:
            auth = {"Authorization": f"Bearer {token}"}
            ticket = (await c.post("/v1/stream/tickets", headers=auth)).json()["ticket"]
            async with c.stream("GET", "/v1/stream", params={"ticket": ticket}) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                event = ""
                async for line in r.aiter_lines():
                    connected.set()
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        seen.append({"event": event, **json.loads(line[6:])})

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(connected.wait(), 10)
        yield seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_district_scoping_in_reads_and_the_stream(system: System) -> None:
    area_a, area_b = fresh_area(), fresh_area()
    vol_a = volunteer(area_a, 100)
    await system.add_volunteers([vol_a, volunteer(area_b, 100, district=NANKANG)])
    async with listening(system, ZHANGGONG) as seen_a, listening(system, NANKANG) as seen_b:
        inc_a = await raise_incident(system, incident_body(area_a, need={"total": 1}))
        [call] = await issued_n(system, inc_a["id"], 1)
        await reply(system.producer, system.settings, call, "accept")
        await eventually(lambda: _has(seen_a, inc_a["id"], "staffed"), what="A sees staffed")

        async with system.client("duty_desk", NANKANG) as desk_b:
            r = await desk_b.post("/v1/incidents",
                                  json=incident_body(area_b, district=NANKANG, need={"total": 1}))
            assert r.status_code == 201, r.text
            inc_b = r.json()
        # B's stream works: it sees its own incident, which was raised after all of A's events.
        await eventually(lambda: _has(seen_b, inc_b["id"], "mobilising"), what="B sees its own")

    kinds_a = {(e["event"], e.get("state") or e.get("status")) for e in seen_a
               if e["incident_id"] == inc_a["id"]}
    assert {("incident", "mobilising"), ("callout", "pending"), ("callout", "accepted"),
            ("incident", "staffed")} <= kinds_a
    assert all(e["district"] == NANKANG for e in seen_b), "B saw another district's event"
    assert all(e["district"] == ZHANGGONG for e in seen_a)
    assert not any("phone" in e for e in seen_a), "no phone numbers in the stream"

    async with system.client("supervisor", NANKANG) as sup_b:
        listed = (await sup_b.get("/v1/incidents")).json()
        assert inc_b["id"] in {i["id"] for i in listed}
        assert inc_a["id"] not in {i["id"] for i in listed}
        assert (await sup_b.get(f"/v1/incidents/{inc_a['id']}")).status_code == 404
        assert (await sup_b.get(f"/v1/incidents/{inc_a['id']}/callouts")).status_code == 404
        assert (await sup_b.post(f"/v1/incidents/{inc_a['id']}/cancel")).status_code == 404
        assert (await sup_b.get("/v1/incidents", params={"district": ZHANGGONG})).status_code == 403
        stats = (await sup_b.get("/v1/stats")).json()
        assert {r["key"] for r in stats["by_district"]} <= {NANKANG}

    async with system.client("supervisor", ZHANGGONG) as sup_a:
        callouts = (await sup_a.get(f"/v1/incidents/{inc_a['id']}/callouts")).json()
        stats = (await sup_a.get("/v1/stats", params={"district": ZHANGGONG})).json()
    [c] = callouts
    assert c["phone"] != vol_a.phone and "****" in c["phone"]
    assert c["phone"].endswith(vol_a.phone[-4:])
    assert c["state"] == "accepted" and c["rank"] == 1 and 90 <= c["distance_m"] <= 110
    assert c["name"] == vol_a.name and abs(c["lat"] - vol_a.home.lat) < 1e-6
    assert stats["overall"]["accepted"] >= 1 and stats["overall"]["median_accept_s"] is not None
    assert any(r["key"] == "patrol" and r["acceptance_rate"] for r in stats["by_team_type"])


async def _has(seen: list[dict[str, Any]], incident_id: str, status: str) -> bool:
    return any(e["incident_id"] == incident_id and e.get("status") == status for e in seen)
