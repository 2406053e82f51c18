"""Quorum by mix, next-nearest on decline and failure, stand-downs, privacy of the first alert."""

from __future__ import annotations

from typing import Any

from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued, CalloutStoodDown
from baiying_shared.events.common import GeoPoint
from tests.dispatcher.conftest import System
from tests.dispatcher.support import deliver, fresh_area, reply, volunteer
from tests.support import eventually


def incident_body(area: GeoPoint, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "商场走失儿童", "category": "missing_person", "description": "6岁男孩，蓝色上衣",
        "location": area.model_dump(), "address": "章贡区文清路88号万达广场北门",
        "area": "解放街道", "district": "360702", "need": {"total": 1},
    }
    body.update(kw)
    return body


async def raise_incident(system: System, body: dict[str, Any]) -> dict[str, Any]:
    async with system.client() as c:
        r = await c.post("/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def detail(system: System, incident_id: str) -> dict[str, Any]:
    async with system.client("supervisor") as c:
        r = await c.get(f"/v1/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def issued_n(system: System, incident_id: str, n: int) -> list[CalloutIssued]:
    async def probe() -> list[CalloutIssued] | None:
        got = system.tap.issued(incident_id)
        return got if len(got) >= n else None
    got = await eventually(probe, timeout=20, what=f"{n} call-outs issued")
    assert len(got) == n, f"expected exactly {n} call-outs, got {len(got)}"
    return sorted(got, key=lambda i: i.rank)


async def test_quorum_by_mix_then_stand_down(system: System) -> None:
    area = fresh_area()
    medic = volunteer(area, 100, skills=("first_aid",))
    patrols = [volunteer(area, d) for d in (200, 300, 400, 500, 600)]
    infos = [volunteer(area, d, team_type="information_officer") for d in (150, 250, 350)]
    other = volunteer(area, 50, team_type="building_watch")  # nearest, but not needed
    await system.add_volunteers([medic, *patrols, *infos, other])

    need = {"teams": {"patrol": 2, "information_officer": 1}, "skills": {"first_aid": 1}}
    inc = await raise_incident(system, incident_body(area, need=need))
    assert inc["status"] == "mobilising"
    # One person fills one slot: 1 first aid + 2 patrol + 1 info. ×2 over-call: 2 first-aiders
    # wanted (only the medic exists), 4 patrol (the medic counts for first aid), 2 info.
    calls = await issued_n(system, inc["id"], 7)
    by_vol = {c.volunteer_id: c for c in calls}
    assert set(by_vol) == {medic.volunteer_id, *(p.volunteer_id for p in patrols[:4]),
                           infos[0].volunteer_id, infos[1].volunteer_id}
    assert [c.rank for c in calls] == list(range(1, 8))
    assert [c.distance_m for c in calls] == sorted(c.distance_m for c in calls)
    first = calls[0]
    assert first.volunteer_id == medic.volunteer_id and 90 <= first.distance_m <= 110
    # The first alert says roughly where — never the street address.
    assert first.area == "章贡区解放街道" and "文清路" not in first.model_dump_json()
    keys = {k for k, e in system.tap.seen if isinstance(e.payload, CalloutIssued)
            and str(e.payload.incident_id) == inc["id"]}
    assert keys == {str(v) for v in by_vol}, "keyed by volunteer id"

    # medic (patrol, first aid) + two patrols + one info officer accept: covered.
    for who in (medic, patrols[0], patrols[1], infos[0]):
        await reply(system.producer, system.settings, by_vol[who.volunteer_id], "accept")
    got = await eventually(lambda: _status(system, inc["id"], "staffed"), what="staffed")
    assert got["counts"] == {"accepted": 4, "stood_down": 3}
    assert got["time_to_first_accept_s"] is not None and got["time_to_staffed_s"] is not None

    confirmed = await eventually(lambda: _n(system.tap.of(CalloutConfirmed, inc["id"]), 4),
                                 what="4 confirmations")
    assert {c.volunteer_id for c in confirmed} == {medic.volunteer_id, patrols[0].volunteer_id,
                                                   patrols[1].volunteer_id, infos[0].volunteer_id}
    assert all(c.address == "章贡区文清路88号万达广场北门" and c.contact for c in confirmed)
    downs = await eventually(lambda: _n(system.tap.of(CalloutStoodDown, inc["id"]), 3),
                             what="3 stand-downs")
    assert {d.reason for d in downs} == {"staffed"}
    assert {d.volunteer_id for d in downs} == {patrols[2].volunteer_id, patrols[3].volunteer_id,
                                               infos[1].volunteer_id}


async def _n(items: list[Any], n: int) -> list[Any] | None:
    return items if len(items) >= n else None


async def _status(system: System, incident_id: str, status: str) -> dict[str, Any] | None:
    d = await detail(system, incident_id)
    return d if d["status"] == status else None


async def test_decline_and_failed_delivery_call_the_next_nearest(system: System) -> None:
    area = fresh_area()
    vols = [volunteer(area, d) for d in (100, 200, 300, 400)]
    await system.add_volunteers(vols)
    inc = await raise_incident(system, incident_body(area, need={"total": 1}))
    [first, second] = await issued_n(system, inc["id"], 2)  # 1 needed × 2 over-call
    assert [first.volunteer_id, second.volunteer_id] == [vols[0].volunteer_id, vols[1].volunteer_id]

    await reply(system.producer, system.settings, first, "decline")
    calls = await issued_n(system, inc["id"], 3)
    assert calls[2].volunteer_id == vols[2].volunteer_id and calls[2].rank == 3

    await deliver(system.producer, system.settings, second, "failed")
    calls = await issued_n(system, inc["id"], 4)
    assert calls[3].volunteer_id == vols[3].volunteer_id

    await reply(system.producer, system.settings, calls[3], "accept")
    d = await eventually(lambda: _status(system, inc["id"], "staffed"), what="staffed")
    assert d["counts"] == {"declined": 1, "failed": 1, "accepted": 1, "stood_down": 1}


async def test_withdrawal_after_staffed_reopens_and_calls_the_next_nearest(
    system: System,
) -> None:
    area = fresh_area()
    vols = [volunteer(area, d) for d in (100, 200, 300)]
    await system.add_volunteers(vols)
    inc = await raise_incident(system, incident_body(area, need={"total": 1}))
    [first, _second] = await issued_n(system, inc["id"], 2)
    await reply(system.producer, system.settings, first, "accept")
    await eventually(lambda: _status(system, inc["id"], "staffed"), what="staffed")

    await reply(system.producer, system.settings, first, "decline")  # cannot come after all
    await eventually(lambda: _status(system, inc["id"], "mobilising"), what="reopened")
    calls = await issued_n(system, inc["id"], 3)
    assert calls[2].volunteer_id == vols[2].volunteer_id, "the next nearest not yet called"

    await reply(system.producer, system.settings, calls[2], "accept")
    d = await eventually(lambda: _status(system, inc["id"], "staffed"), what="staffed again")
    assert d["counts"] == {"declined": 1, "stood_down": 1, "accepted": 1}
