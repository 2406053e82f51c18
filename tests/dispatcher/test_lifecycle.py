"""Widening rounds, the idempotency key, out-of-order and duplicate events, cancel, advisories."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from baiying_shared.events.callouts import CalloutConfirmed, CalloutStoodDown
from baiying_shared.events.common import QuietHours
from tests.dispatcher.conftest import System
from tests.dispatcher.support import deliver, fresh_area, publish, reply, volunteer
from tests.dispatcher.test_mobilisation import (
    _n,
    _status,
    detail,
    incident_body,
    issued_n,
    raise_incident,
)
from tests.support import eventually


async def test_rounds_widen_then_stop_as_unmet(system: System) -> None:
    area = fresh_area()
    far = volunteer(area, 1500)  # outside 500 m and 1000 m, inside 2000 m
    await system.add_volunteers([far, volunteer(area, 3000)])
    escalation = {"rounds": 3, "widening": 2.0, "wait_s": 1.0}
    inc = await raise_incident(
        system, incident_body(area, radius_m=500, escalation=escalation, need={"total": 1})
    )
    assert inc["round"] == 1 and inc["radius_m"] == 500 and inc["called"] == 0

    [call] = await issued_n(system, inc["id"], 1)  # only the third round reaches 1500 m
    assert call.volunteer_id == far.volunteer_id and call.round == 3
    got = await eventually(lambda: _status(system, inc["id"], "unmet"), timeout=20, what="unmet")
    assert got["round"] == 3 and got["radius_m"] == 2000
    assert got["counts"] == {"no_answer": 1}
    assert got["next_round_at"] is None
    # The console's timeline fields travel in IncidentOut.
    assert got["unmet_at"] is not None and got["first_callout_at"] is not None
    assert got["ended_at"] is None
    # Rounds stop: while another incident's timer visibly advances, this one stays put.
    probe = await raise_incident(system, incident_body(
        fresh_area(), escalation={"rounds": 2, "widening": 2.0, "wait_s": 1.0}))
    await eventually(lambda: _round(system, probe["id"], 2), what="the timer still ticking")
    again = await detail(system, inc["id"])
    assert again["round"] == 3 and again["status"] == "unmet"
    assert len(system.tap.issued(inc["id"])) == 1

    # A late "yes" to an unmet incident is still welcome and staffs it.
    await reply(system.producer, system.settings, call, "accept")
    await eventually(lambda: _status(system, inc["id"], "staffed"), what="staffed after unmet")


async def _round(system: System, incident_id: str, n: int) -> bool:
    return bool((await detail(system, incident_id))["round"] == n)


async def test_idempotency_key_returns_the_same_incident_and_calls_once(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, d) for d in (100, 200, 300)])
    body = incident_body(area, need={"total": 1})
    headers = {"Idempotency-Key": f"desk-retry-{area.lat}"}
    async with system.client() as c:
        first, second = await asyncio.gather(
            c.post("/v1/incidents", json=body, headers=headers),
            c.post("/v1/incidents", json=body, headers=headers),
        )
        third = await c.post("/v1/incidents", json=body, headers=headers)
        changed = await c.post("/v1/incidents", json={**body, "title": "别的事"}, headers=headers)
    assert {first.status_code, second.status_code, third.status_code} == {201}
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert changed.status_code == 409
    incident_id = first.json()["id"]
    n = await system.pool.fetchval(
        "SELECT count(*) FROM incidents WHERE idempotency_key = $1", headers["Idempotency-Key"]
    )
    assert n == 1
    await issued_n(system, incident_id, 2)
    rows = await system.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE convert_from(value, 'UTF8')::jsonb"
        " #>> '{payload,incident_id}' = $1", incident_id,
    )
    assert rows == 2, "one CalloutIssued per volunteer, never twice"


async def test_out_of_order_and_duplicate_statuses(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, d) for d in (100, 200, 300, 400)])
    inc = await raise_incident(system, incident_body(area, need={"total": 2}))
    calls = await issued_n(system, inc["id"], 4)
    a, b = calls[0], calls[1]
    p, s = system.producer, system.settings
    accept = await reply(p, s, a, "accept")
    await deliver(p, s, a, "delivered")  # arrives after the answer
    await deliver(p, s, a, "sent")
    await publish(p, s, "notify.replies.v1", str(a.callout_id), accept.payload, envelope=accept)
    await deliver(p, s, b, "delivered")
    sent_late = await deliver(p, s, b, "sent")
    await publish(p, s, "notify.deliveries.v1", str(b.callout_id), sent_late.payload,
                  envelope=sent_late)

    async def settled() -> dict[str, Any] | None:
        rows = await system.pool.fetch(
            "SELECT id::text, state, delivery_status FROM callouts WHERE incident_id = $1",
            uuid.UUID(inc["id"]))
        by = {r["id"]: (r["state"], r["delivery_status"]) for r in rows}
        want = {str(a.callout_id): ("accepted", "delivered"),
                str(b.callout_id): ("delivered", "delivered")}
        return by if all(by.get(k) == v for k, v in want.items()) else None

    await eventually(settled, what="states settled")
    # Every event (copies included) is processed before we judge: the last one is a marker.
    marker = await deliver(p, s, calls[2], "sent")
    await eventually(lambda: system.pool.fetchval(
        "SELECT count(*) = 1 FROM processed_events WHERE event_id = $1", marker.event_id),
        what="marker processed")
    assert await settled() is not None, "a late status moved a call-out backwards"
    await eventually(lambda: _n(system.tap.of(CalloutConfirmed, inc["id"]), 1), what="confirm")
    confirmations = system.tap.of(CalloutConfirmed, inc["id"])
    assert len(confirmations) == 1, "a duplicate accept must not confirm twice"
    d = await detail(system, inc["id"])
    assert d["accepted"] == 1 and d["status"] == "mobilising"


async def test_cancel_stands_everyone_down_and_is_audited(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, d) for d in (100, 200, 300, 400)])
    inc = await raise_incident(system, incident_body(area, need={"total": 2}))
    calls = await issued_n(system, inc["id"], 4)
    await reply(system.producer, system.settings, calls[0], "accept")
    await reply(system.producer, system.settings, calls[1], "decline")
    # Both replies travel on different partitions: wait for both before cancelling.
    await eventually(lambda: _answered(system, inc["id"]), what="one accepted, one declined")

    async with system.client("supervisor") as c:
        r = await c.post(f"/v1/incidents/{inc['id']}/cancel", json={"reason": "孩子已找到"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        assert r.json()["ended_at"] is not None
        again = await c.post(f"/v1/incidents/{inc['id']}/cancel")
        assert again.status_code == 200
        closing = await c.post(f"/v1/incidents/{inc['id']}/close")
        assert closing.status_code == 409
        audit = (await c.get(f"/v1/incidents/{inc['id']}/audit")).json()
    # The accepted one and the two still waiting stand down; the decline left 2 in flight
    # for the 1 still missing (×2 over-call), so no replacement was called.
    downs = await eventually(lambda: _n(system.tap.of(CalloutStoodDown, inc["id"]), 3),
                             what="stand-downs")
    assert {d.reason for d in downs} == {"cancelled"}
    assert calls[1].volunteer_id not in {d.volunteer_id for d in downs}, "declined: no message"
    d = await detail(system, inc["id"])
    assert d["counts"] == {"stood_down": 3, "declined": 1}
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("raise", "duty_desk-360702"), ("cancel", "supervisor-360702")
    ]
    assert audit[1]["detail"] == {"reason": "孩子已找到"}


async def _answered(system: System, incident_id: str) -> bool:
    counts = (await detail(system, incident_id))["counts"]
    return counts.get("accepted") == 1 and counts.get("declined") == 1


async def test_advisory_reaches_every_active_volunteer_and_counts_deliveries(
    system: System,
) -> None:
    area = fresh_area()
    near = [volunteer(area, d, on_duty=False) for d in (100, 900)]  # off duty still hears it
    gone = volunteer(area, 300, status="suspended")
    asleep = volunteer(area, 500, quiet_hours=_quiet_now())  # a notice never wakes anyone
    far = volunteer(area, 5000)
    await system.add_volunteers([*near, gone, asleep, far])
    body = incident_body(area, kind="advisory", need=None, radius_m=1000, title="防范电信诈骗",
                         advice="警惕冒充公检法的电话，不转账、不透露验证码。")
    inc = await raise_incident(system, body)
    assert inc["status"] == "issued"
    calls = await issued_n(system, inc["id"], 2)
    assert {c.volunteer_id for c in calls} == {v.volunteer_id for v in near}
    assert all(c.kind == "advisory" and c.advice and c.advice.startswith("警惕") for c in calls)
    for c in calls:
        await deliver(system.producer, system.settings, c, "delivered")
    await reply(system.producer, system.settings, calls[0], "accept")  # no reply expected
    got = await eventually(
        lambda: _deliveries(system, inc["id"], 2), what="deliveries counted"
    )
    assert got["counts"] == {"delivered": 2} and got["status"] == "issued"


def _quiet_now() -> QuietHours:
    """A quiet-hours window around the current Asia/Shanghai time."""
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    return QuietHours(start=(local - timedelta(hours=1)).time().replace(microsecond=0),
                      end=(local + timedelta(hours=1)).time().replace(microsecond=0))


async def _deliveries(system: System, incident_id: str, n: int) -> dict[str, Any] | None:
    d = await detail(system, incident_id)
    return d if d["deliveries"].get("delivered") == n else None


async def test_bad_input_names_the_field(system: System) -> None:
    area = fresh_area()
    async with system.client() as c:
        bad_lat = incident_body(area, location={"lat": 123, "lon": 114})
        r = await c.post("/v1/incidents", json=bad_lat)
        assert r.status_code == 422 and "location.lat" in r.json()["error"]
        r = await c.post("/v1/incidents", json=incident_body(area, need=None))
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "need"
        r = await c.post("/v1/incidents", json=incident_body(area, need={"teams": {"cook": 1}}))
        assert r.status_code == 422 and "need.teams.cook" in r.json()["error"]
        r = await c.post("/v1/incidents", json=incident_body(area, kind="advisory", need=None))
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "advice"
        r = await c.post("/v1/incidents", json=incident_body(area, district="360703"))
        assert r.status_code == 403
    async with system.client("supervisor") as c:
        r = await c.post("/v1/incidents", json=incident_body(area))
        assert r.status_code == 403, "supervisors watch; the duty desk raises"


async def test_registry_changes_reach_the_index_through_the_broker(system: System) -> None:
    area = fresh_area()
    snap = volunteer(area, 100, revision=3)
    await system.add_volunteers([snap])
    p, s, key = system.producer, system.settings, str(snap.volunteer_id)
    await publish(p, s, "registry.volunteers.v1", key,
                  snap.model_copy(update={"revision": 2, "name": "旧名字"}))
    await publish(p, s, "registry.volunteers.v1", key,
                  snap.model_copy(update={"revision": 4, "name": "新名字"}))
    await eventually(lambda: system.pool.fetchval(
        "SELECT name = '新名字' FROM responders WHERE volunteer_id = $1", snap.volunteer_id),
        what="newer revision applied")
    await p.send_and_wait(s.topic("registry.volunteers.v1"), value=None, key=key.encode())
    await eventually(lambda: _gone(system, snap.volunteer_id), what="tombstone applied")


async def _gone(system: System, volunteer_id: uuid.UUID) -> bool:
    n = await system.pool.fetchval(
        "SELECT count(*) FROM responders WHERE volunteer_id = $1", volunteer_id)
    return bool(n == 0)


async def test_a_reply_taken_by_phone_is_applied_and_audited(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, d) for d in (100, 200)])
    inc = await raise_incident(system, incident_body(area, need={"total": 1}))
    first, _ = await issued_n(system, inc["id"], 2)
    url = f"/v1/incidents/{inc['id']}/callouts/{first.callout_id}/reply"
    async with system.client() as desk:
        r = await desk.post(url, json={"action": "accept", "note": "电话确认"})
        assert r.status_code == 200 and r.json() == {"state": "accepted"}
        again = await desk.post(url, json={"action": "accept"})
        assert again.status_code == 409
        audit = (await desk.get(f"/v1/incidents/{inc['id']}/audit")).json()
    assert audit[-1]["action"] == "manual_change"
    assert audit[-1]["detail"]["to"] == "accepted" and audit[-1]["detail"]["note"] == "电话确认"
    assert (await detail(system, inc["id"]))["status"] == "staffed"
    confirmed = await eventually(lambda: _n(system.tap.of(CalloutConfirmed, inc["id"]), 1),
                                 what="confirmation")
    assert confirmed[0].volunteer_id == first.volunteer_id
