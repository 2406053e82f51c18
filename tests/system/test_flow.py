"""One incident end to end through real processes: registry → dispatcher → notifier → SMS → back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import eventually
from tests.system.harness import System

# Tests share one running system, so each works at a place of its own, kilometres apart.
SCENE = (25.7800, 114.9300)  # 章贡区, south of the centre
QUIET_PLACE = (25.7200, 114.9300)  # nobody lives here in these tests
ADDRESS = "章贡区文清路88号南门"


def at_scene(title: str, category: str, *, need: int, **more: Any) -> dict[str, Any]:
    """An incident body at SCENE in 章贡区 needing `need` people."""
    return {"title": title, "category": category, "location": {"lat": SCENE[0], "lon": SCENE[1]},
            "address": ADDRESS, "district": "360702", "need": {"total": need}, **more}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _inbox(system: System, phone: str) -> list[dict[str, Any]]:
    return list(await system.sandbox("GET", f"/v1/phones/{phone}/messages"))


async def _reply(system: System, phone: str, body: str) -> None:
    await system.sandbox("POST", f"/v1/phones/{phone}/reply", json={"body": body})


async def test_incident_is_staffed_through_sms_replies(system: System) -> None:
    phones = await system.add_people(8, near=SCENE)
    await eventually(lambda: system.indexed(8), timeout=30, what="volunteers in the index")

    desk = _bearer(system.token("duty_desk", ["360702"]))
    async with httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk) as client:
        raised = await client.post(
            "/v1/incidents",
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json=at_scene("商铺盗窃嫌疑人逃逸", "theft", need=2, radius_m=3000,
                          escalation={"rounds": 2, "widening": 2.0, "wait_s": 120}),
        )
        assert raised.status_code == 201, raised.text
        incident = raised.json()["id"]

        # Over-call factor 2: the four nearest get one alert each, without the exact address.
        for phone in phones[:4]:
            first = await eventually(
                lambda p=phone: _inbox(system, p), timeout=30, what=f"alert to {phone}"
            )
            assert len(first) == 1 and ADDRESS not in first[0]["body"]
        assert [await _inbox(system, p) for p in phones[4:]] == [[]] * 4

        await _reply(system, phones[2], "2")  # a decline frees the slot for the next nearest
        await eventually(lambda: _inbox(system, phones[4]), timeout=30, what="next nearest called")
        await _reply(system, phones[0], "1")
        await _reply(system, phones[1], "是")

        async def staffed() -> bool:
            body = (await client.get(f"/v1/incidents/{incident}")).json()
            return bool(body["status"] == "staffed")

        await eventually(staffed, timeout=30, what="incident staffed")
        detail = (await client.get(f"/v1/incidents/{incident}")).json()
        assert detail["accepted"] == 2 and detail["time_to_staffed_s"] is not None

        callouts = await client.get(f"/v1/incidents/{incident}/callouts")
        assert callouts.status_code == 200
        # Issue #11: the incident's desk sees the whole number of those on the way (to phone
        # them); every other number stays masked.
        whole = {c["phone"] for c in callouts.json() if c["state"] in ("accepted", "arrived")}
        assert whole == {phones[0], phones[1]}, "the desk phones those on the way"
        assert not any(p in callouts.text for p in phones[2:]), "other phones must be masked"

    seen: list[list[str]] = []

    async def settled() -> bool:
        seen[:] = [[m["body"][:40] for m in await _inbox(system, p)] for p in phones]
        # alert + reply receipt + confirmation; alert + receipt; alert + stand-down; nothing.
        return [len(box) for box in seen] == [3, 3, 2, 2, 2, 0, 0, 0]

    try:
        await eventually(settled, timeout=30, what="confirmations and stand-downs delivered")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; inboxes: {seen}") from None
    for accepted in phones[:2]:
        assert ADDRESS in (await _inbox(system, accepted))[2]["body"]
    for stood_down in phones[3:5]:
        assert "无需前往" in (await _inbox(system, stood_down))[1]["body"]
    assert [sum("紧急召集" in m for m in box) for box in seen] == [1] * 5 + [0] * 3


async def test_other_district_supervisor_sees_nothing(system: System) -> None:
    desk = _bearer(system.token("duty_desk", ["360702"]))
    other = _bearer(system.token("supervisor", ["360703"]))
    async with httpx.AsyncClient(base_url=system.dispatcher_url) as client:
        raised = await client.post(
            "/v1/incidents",
            headers=desk,
            json=at_scene("可疑人员", "suspicious", need=1),
        )
        assert raised.status_code == 201, raised.text
        listed = await client.get("/v1/incidents", headers=other)
        assert listed.status_code == 200
        assert raised.json()["id"] not in listed.text
        assert (
            await client.get(f"/v1/incidents/{raised.json()['id']}", headers=other)
        ).status_code == 404
