"""Helpers for the faults tests: many people at once, one advisory to all of them, counting."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import asyncpg
import httpx

from tests.support import eventually
from tests.system.harness import System

# Consecutive from a random start: never the same phone twice in a run (random numbers
# collided about once in fifty 2,000-person crowds, and the import rejects the repeat).
_NUMBERS = itertools.count(random.randrange(10**8))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_crowd(system: System, count: int, *, near: tuple[float, float]) -> list[str]:
    """`count` SMS volunteers on a ~1.3 km square grid south-west of `near`; return phones.

    One CSV import instead of `count` POSTs: faults need hundreds of people quickly.
    """
    admin = _bearer(system.token("admin"))
    async with httpx.AsyncClient(base_url=system.registry_url, headers=admin, timeout=60) as http:
        team = await http.post(
            "/v1/teams",
            json={"name": f"故障巡防队{uuid.uuid4().hex[:4]}", "type": "patrol",
                  "district": "360702"},
        )
        assert team.status_code == 201, team.text
        team_id, side = team.json()["id"], 32
        phones = [f"+86171{next(_NUMBERS) % 10**8:08d}" for _ in range(count)]
        lines = ["name,phone,team_id,lat,lon,channels"]
        for i, phone in enumerate(phones):
            lat = near[0] - 0.0004 * (i // side)
            lon = near[1] - 0.0004 * (i % side)
            lines.append(f"故障队员{i},{phone},{team_id},{lat:.6f},{lon:.6f},sms")
        r = await http.post("/v1/volunteers/import", content="\n".join(lines).encode(),
                            headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert r.json()["imported"] == count, r.text
    return phones


async def indexed(system: System, phones: list[str]) -> bool:
    """Whether every one of `phones` is in the dispatcher's responder index."""
    conn = await asyncpg.connect(system.database_url)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM dispatcher.responders WHERE phone = ANY($1::text[])", phones)
        return bool(found == len(phones))
    finally:
        await conn.close()


def advisory(near: tuple[float, float], radius_m: int = 2500) -> dict[str, Any]:
    return {
        "kind": "advisory", "title": "电信诈骗预警", "category": "fraud",
        "advice": "近期冒充公检法诈骗高发，请提醒居民勿向陌生账户转账。",
        "location": {"lat": near[0], "lon": near[1]}, "address": "章贡区",
        "district": "360702", "radius_m": radius_m,
    }


def callout(near: tuple[float, float], need: int, radius_m: int = 2500) -> dict[str, Any]:
    return {
        "title": "走失老人寻找", "category": "missing", "address": "章贡区某小区东门",
        "location": {"lat": near[0], "lon": near[1]}, "district": "360702",
        "radius_m": radius_m, "need": {"total": need},
        "escalation": {"rounds": 1, "widening": 1.0, "wait_s": 600},
    }


async def raise_incident(system: System, body: dict[str, Any]) -> dict[str, Any]:
    desk = _bearer(system.token("duty_desk", ["360702"]))
    async with httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk, timeout=30) as http:
        r = await http.post("/v1/incidents", json=body,
                            headers={"Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        return dict(r.json())


async def incident(system: System, incident_id: str) -> dict[str, Any]:
    desk = _bearer(system.token("duty_desk", ["360702"]))
    async with httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk, timeout=10) as http:
        r = await http.get(f"/v1/incidents/{incident_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def received(system: System, phones: list[str]) -> dict[str, int]:
    """How many messages the sandbox accepted for each of `phones`."""
    listed = await system.sandbox("GET", "/v1/phones")
    counts = {p["number"]: int(p["received"]) for p in listed}
    return {phone: counts.get(phone, 0) for phone in phones}


async def sent_count(system: System, phones: list[str]) -> int:
    return sum(1 for n in (await received(system, phones)).values() if n)


def not_exactly_once(counts: dict[str, int]) -> dict[str, int]:
    return {phone: n for phone, n in counts.items() if n != 1}


async def notifier_idle(system: System) -> bool:
    """No delivery of the notifier is waiting to be sent or sent-but-unrecorded."""
    conn = await asyncpg.connect(system.database_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM notifier.deliveries WHERE state IN ('pending', 'claimed')")
        return bool(left == 0)
    finally:
        await conn.close()


async def everyone_served(
    system: System, phones: list[str], expected: int | None = None
) -> dict[str, int] | None:
    """The counts per phone once `expected` (default all) of `phones` have a message and the
    notifier has nothing left to send."""
    counts = await received(system, phones)
    reached = sum(1 for n in counts.values() if n)
    if reached == (len(phones) if expected is None else expected) and await notifier_idle(system):
        return counts
    return None


async def wait_served(
    system: System, phones: list[str], expected: int | None = None, *, what: str,
    within: float = 90,
) -> dict[str, int]:
    """Wait until `everyone_served`; return the counts per phone."""
    counts = await eventually(lambda: everyone_served(system, phones, expected),
                              timeout=within, interval=0.3, what=what)
    assert counts is not None
    return counts
