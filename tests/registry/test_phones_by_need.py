"""Issue 11 (3): supervisors and desks read masked numbers; only admins the whole number."""

from __future__ import annotations

import uuid

import httpx

from baiying_shared.privacy import mask_phone
from tests.registry.conftest import Registry


async def test_lists_and_records_mask_the_phone_except_for_admins(registry: Registry) -> None:
    team = await registry.team("360703")
    v = await registry.volunteer(team)
    for role in ("supervisor", "duty_desk"):
        async with registry.client(role, "360703") as c:  # type: ignore[arg-type]
            record = (await c.get(f"/v1/volunteers/{v['id']}")).json()
            page = (await c.get("/v1/volunteers", params={"team_id": team["id"]})).json()
        assert record["phone"] == mask_phone(v["phone"]) != v["phone"], role
        assert [p["phone"] for p in page["items"]] == [mask_phone(v["phone"])], role
    async with registry.client() as c:
        assert (await c.get(f"/v1/volunteers/{v['id']}")).json()["phone"] == v["phone"]
        page = (await c.get("/v1/volunteers", params={"team_id": team["id"]})).json()
    assert [p["phone"] for p in page["items"]] == [v["phone"]]


async def test_a_volunteer_sees_their_own_number(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team("360703"))
    headers = registry.headers("volunteer", volunteer_id=uuid.UUID(v["id"]))
    async with httpx.AsyncClient(base_url=registry.url, headers=headers) as c:
        r = await c.put(f"/v1/volunteers/{v['id']}/availability", json={"on_duty": False})
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == v["phone"]
