"""Next steps on a short or unmet call: each action, its audit line, and who may not."""

from __future__ import annotations

from typing import Any

from baiying_shared.events.callouts import CalloutConfirmed
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_mobilisation import detail, incident_body, issued_n, raise_incident
from tests.dispatcher.test_scoping import listening
from tests.support import eventually

NANKANG = "360703"
QUICK_UNMET = {"rounds": 1, "widening": 1.0, "wait_s": 1.0}


async def step(system: System, incident_id: str, body: dict[str, Any], *,
               role: Any = "duty_desk", district: str = "360702") -> Any:
    async with system.client(role, district) as c:
        return await c.post(f"/v1/incidents/{incident_id}/next-steps", json=body)


async def audit_actions(system: System, incident_id: str) -> list[str]:
    async with system.client("supervisor") as c:
        rows = (await c.get(f"/v1/incidents/{incident_id}/audit")).json()
    return [r["action"] for r in rows]


async def status_is(system: System, incident_id: str, wanted: str) -> None:
    async def probe() -> bool:
        return (await detail(system, incident_id))["status"] == wanted
    await eventually(probe, timeout=20, what=f"incident {wanted}")


async def test_widen_an_unmet_call_reaches_further(system: System) -> None:
    area = fresh_area()
    near, far = volunteer(area, 100), volunteer(area, 4000)
    await system.add_volunteers([near, far])
    inc = await raise_incident(system, incident_body(
        area, need={"total": 2}, radius_m=1000, escalation=QUICK_UNMET))
    await issued_n(system, inc["id"], 1)
    await status_is(system, inc["id"], "unmet")
    async with system.client() as c:
        offered = (await c.get(f"/v1/incidents/{inc['id']}/next-steps")).json()
    assert offered["status"] == "unmet" and "widen" in offered["offered"]

    narrower = await step(system, inc["id"], {"action": "widen", "radius_m": 500})
    assert narrower.status_code == 422 and narrower.json()["detail"][0]["field"] == "radius_m"
    async with listening(system, "360702") as seen:
        r = await step(system, inc["id"], {"action": "widen", "radius_m": 6000})
        assert r.status_code == 200, r.text

        async def step_line() -> list[dict[str, Any]] | None:
            got = [n for n in seen if n["event"] == "step" and n["incident_id"] == inc["id"]]
            return got or None
        [line] = await eventually(step_line, what="the step on the stream")
        assert line["action"] == "widen" and line["detail"] == {"from_m": 1000, "to_m": 6000}
    out = r.json()
    assert out["incident"]["status"] == "mobilising" and out["incident"]["radius_m"] == 6000
    assert out["detail"] == {"from_m": 1000, "to_m": 6000}
    called = await issued_n(system, inc["id"], 2)
    assert called[1].volunteer_id == far.volunteer_id
    assert "next_step:widen" in await audit_actions(system, inc["id"])


async def test_who_may_not_take_a_step(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 100)])
    inc = await raise_incident(system, incident_body(area, need={"total": 2}))
    sup = await step(system, inc["id"], {"action": "extend", "minutes": 5}, role="supervisor")
    assert sup.status_code == 403
    other = await step(system, inc["id"], {"action": "extend", "minutes": 5}, district=NANKANG)
    assert other.status_code == 404
    async with system.client("supervisor") as c:
        assert (await c.get(f"/v1/incidents/{inc['id']}/next-steps")).status_code == 403
    bad = await step(system, inc["id"], {"action": "extend", "minutes": 0})
    assert bad.status_code == 422 and "minutes" in bad.text
    unknown = await step(system, inc["id"], {"action": "pray"})
    assert unknown.status_code == 422 and "action" in unknown.text
    assert not [a for a in await audit_actions(system, inc["id"]) if a.startswith("next_step")]


async def test_phoned_reply_for_a_named_volunteer_staffs_the_call(system: System) -> None:
    area = fresh_area()
    vol, stranger = volunteer(area, 100), volunteer(area, 200)
    await system.add_volunteers([vol])
    inc = await raise_incident(system, incident_body(area, need={"total": 1}))
    await issued_n(system, inc["id"], 1)
    nobody = await step(system, inc["id"], {"action": "phoned_reply", "reply": "accept",
                                            "volunteer_id": str(stranger.volunteer_id)})
    assert nobody.status_code == 404 and "not called" in nobody.text
    r = await step(system, inc["id"], {"action": "phoned_reply", "reply": "accept",
                                       "volunteer_id": str(vol.volunteer_id), "note": "打电话来"})
    assert r.status_code == 200, r.text
    assert r.json()["incident"]["status"] == "staffed"
    assert r.json()["detail"]["to"] == "accepted" and r.json()["detail"]["note"] == "打电话来"
    again = await step(system, inc["id"], {"action": "phoned_reply", "reply": "accept",
                                           "volunteer_id": str(vol.volunteer_id)})
    assert again.status_code == 409
    assert "next_step:phoned_reply" in await audit_actions(system, inc["id"])
    # The volunteer is told what the desk wrote and whom to call back, as after an SMS yes.
    [issued] = system.tap.issued(inc["id"])
    assert issued.description == "6岁男孩，蓝色上衣" and issued.area == "章贡区解放街道"

    async def confirmed() -> list[CalloutConfirmed] | None:
        return system.tap.of(CalloutConfirmed, inc["id"]) or None
    [conf] = await eventually(confirmed, what="confirmation")
    assert conf.description == "6岁男孩，蓝色上衣"
    assert conf.contact == system.settings.dispatch_contact  # no per-district number set


async def test_raise_the_need_reopens_a_staffed_call(system: System) -> None:
    area = fresh_area()
    first, second = volunteer(area, 100), volunteer(area, 200)
    await system.add_volunteers([first, second])
    inc = await raise_incident(system, incident_body(area, need={"total": 1}))
    call = (await issued_n(system, inc["id"], 2))[0]
    await step(system, inc["id"], {"action": "phoned_reply", "reply": "accept",
                                   "volunteer_id": str(call.volunteer_id)})
    await status_is(system, inc["id"], "staffed")
    r = await step(system, inc["id"], {"action": "change_need", "need": {"total": 2}})
    assert r.status_code == 200, r.text
    assert r.json()["incident"]["status"] == "mobilising"
    assert r.json()["detail"]["to"]["total"] == 2
    bad = await step(system, inc["id"], {"action": "change_need", "need": {"teams": {"x": 1}}})
    assert bad.status_code == 422 and "teams" in bad.text


async def test_extend_and_another_round(system: System) -> None:
    area = fresh_area()
    near, next_ = volunteer(area, 100), volunteer(area, 300)
    await system.add_volunteers([near, next_])
    inc = await raise_incident(system, incident_body(
        area, need={"total": 1}, escalation={"rounds": 3, "widening": 1.0, "wait_s": 600}))
    before = (await detail(system, inc["id"]))["next_round_at"]
    r = await step(system, inc["id"], {"action": "extend", "minutes": 10})
    assert r.status_code == 200, r.text
    assert r.json()["incident"]["next_round_at"] > before
    # over-call 2 × 1: both were called in round 1; another round marks them silent.
    await issued_n(system, inc["id"], 2)
    r = await step(system, inc["id"], {"action": "another_round"})
    assert r.status_code == 200, r.text
    assert r.json()["incident"]["round"] == 2 and r.json()["detail"]["silent"] == 2
    counts = (await detail(system, inc["id"]))["counts"]
    assert counts.get("no_answer") == 2
    assert (await audit_actions(system, inc["id"]))[-2:] == [
        "next_step:extend", "next_step:another_round"]


async def test_turn_the_call_into_an_advisory(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 100), volunteer(area, 900)])
    inc = await raise_incident(system, incident_body(area, need={"total": 3}))
    r = await step(system, inc["id"], {"action": "advisory", "advice": "请关好门窗，注意可疑人员"})
    assert r.status_code == 200, r.text
    notice = r.json()["incident"]
    assert notice["kind"] == "advisory" and notice["advice"] == "请关好门窗，注意可疑人员"
    assert notice["area"] == inc["area"]
    assert r.json()["detail"]["advisory_id"] == notice["id"]
    assert (await detail(system, inc["id"]))["status"] == "closed"
    sent = await issued_n(system, notice["id"], 2)
    assert {s.kind for s in sent} == {"advisory"}
    assert "next_step:advisory" in await audit_actions(system, inc["id"])
    late = await step(system, inc["id"], {"action": "another_round"})
    assert late.status_code == 409 and "closed" in late.text
