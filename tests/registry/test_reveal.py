"""Issue 11 (phones by need): a whole number only through an audited reveal with a reason."""

from __future__ import annotations

from typing import Any

from baiying_shared.privacy import mask_phone
from tests.registry.conftest import Registry

REASON = "接警回拨：志愿者已接单，需电话联系到场位置"


async def _reveal(registry: Registry, volunteer: dict[str, Any], role: str, *districts: str,
                  body: dict[str, Any] | None = None) -> Any:
    async with registry.client(role, *districts) as c:  # type: ignore[arg-type]
        return await c.post(f"/v1/volunteers/{volunteer['id']}/phone:reveal",
                            json={"reason": REASON} if body is None else body)


async def test_desk_and_supervisor_of_the_district_reveal_and_each_reveal_is_audited(
    registry: Registry,
) -> None:
    v = await registry.volunteer(await registry.team("360703"))
    for role in ("duty_desk", "supervisor", "admin"):
        r = await _reveal(registry, v, role, *(("360703",) if role != "admin" else ()))
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == v["phone"] != mask_phone(v["phone"])
    rows = await registry.pool.fetch(
        "SELECT actor, role, reason, district FROM phone_reveals WHERE volunteer_id = $1"
        " ORDER BY id", v["id"])
    assert [(r["actor"], r["role"]) for r in rows] == [
        ("duty_desk-test", "duty_desk"), ("supervisor-test", "supervisor"),
        ("admin-test", "admin")]
    assert {(r["reason"], r["district"]) for r in rows} == {(REASON, "360703")}
    async with registry.client("supervisor", "360703") as c:
        listed = (await c.get(f"/v1/volunteers/{v['id']}/phone:reveals")).json()
    assert [x["actor"] for x in listed] == ["admin-test", "supervisor-test", "duty_desk-test"]
    # Revealing changes nothing else: the record still shows the desk a mask.
    async with registry.client("duty_desk", "360703") as c:
        record = (await c.get(f"/v1/volunteers/{v['id']}")).json()
    assert record["phone"] == mask_phone(v["phone"])


async def test_no_reason_no_number_and_the_refusal_names_the_field(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team("360703"))
    for body in ({}, {"reason": ""}, {"reason": "   x   "}):
        r = await _reveal(registry, v, "supervisor", "360703", body=body)
        assert r.status_code == 422, r.text
        assert "reason" in r.text and v["phone"] not in r.text
    assert await registry.pool.fetchval(
        "SELECT count(*) FROM phone_reveals WHERE volunteer_id = $1", v["id"]) == 0


async def test_other_districts_and_volunteers_are_refused_and_nothing_is_recorded(
    registry: Registry,
) -> None:
    v = await registry.volunteer(await registry.team("360703"))
    other = await _reveal(registry, v, "supervisor", "360702")
    assert other.status_code == 403, other.text
    desk = await _reveal(registry, v, "duty_desk", "360702")
    assert desk.status_code == 403, desk.text
    volunteer = await _reveal(registry, v, "volunteer", "360703")
    assert volunteer.status_code == 403, volunteer.text
    for r in (other, desk, volunteer):
        assert v["phone"] not in r.text
    assert await registry.pool.fetchval(
        "SELECT count(*) FROM phone_reveals WHERE volunteer_id = $1", v["id"]) == 0
