"""Every endpoint on the real database and broker: happy paths, bad inputs, districts."""

from __future__ import annotations

import uuid

import httpx

from tests.registry.conftest import Registry, new_phone


async def test_create_and_read_a_volunteer(registry: Registry) -> None:
    team = await registry.team("360702")
    phone = new_phone()
    body = {"name": "刘海燕", "phone": phone.replace("+86", "").replace("139", "139 ", 1),
            "team_id": team["id"], "home": {"lat": 25.8175, "lon": 114.935},
            "skills": ["first_aid", "driver"], "channels": ["sms", "app"],
            "quiet_hours": {"start": "22:00", "end": "07:00"}, "daily_alert_cap": 5}
    async with registry.client() as c:
        r = await c.post("/v1/volunteers", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["phone"] == phone, "stored as E.164 and shown whole by the registry"
        assert created["district"] == "360702", "district defaults to the team's"
        assert created["team_type"] == "patrol"
        assert created["revision"] == 1
        assert created["skills"] == ["driver", "first_aid"]
        got = await c.get(f"/v1/volunteers/{created['id']}")
    assert got.status_code == 200
    assert got.json() == created


async def test_duplicate_phone_is_409(registry: Registry) -> None:
    team = await registry.team()
    first = await registry.volunteer(team)
    async with registry.client() as c:
        r = await c.post("/v1/volunteers", json={
            "name": "王五", "phone": first["phone"], "team_id": team["id"],
            "home": {"lat": 25.8, "lon": 114.9}})
    assert r.status_code == 409, r.text


async def _field_of(registry: Registry, body: dict[str, object]) -> str:
    async with registry.client() as c:
        r = await c.post("/v1/volunteers", json=body)
    assert r.status_code == 422, r.text
    fields = [d["field"] for d in r.json()["detail"]]
    assert len(fields) == 1, fields
    return fields[0]


async def test_bad_inputs_are_422_naming_the_field(registry: Registry) -> None:
    team = await registry.team()
    good = {"name": "张三", "phone": new_phone(), "team_id": team["id"],
            "home": {"lat": 25.8, "lon": 114.9}}
    assert await _field_of(registry, {**good, "phone": "12345"}) == "phone"
    assert await _field_of(registry, {**good, "phone": "+8614000000000"}) == "phone"
    assert await _field_of(registry, {**good, "home": {"lat": 39.9, "lon": 116.4}}) == "home"
    assert await _field_of(registry, {**good, "home": {"lat": 95, "lon": 114.9}}) == "home.lat"
    assert await _field_of(registry, {**good, "team_id": str(uuid.uuid4())}) == "team_id"
    assert await _field_of(registry, {**good, "team_id": "not-a-uuid"}) == "team_id"
    assert await _field_of(registry, {**good, "skills": ["First Aid"]}) == "skills"
    assert await _field_of(registry, {**good, "channels": []}) == "channels"
    assert await _field_of(registry, {**good, "district": "36070"}) == "district"
    assert await _field_of(registry, {**good, "daily_alert_cap": -1}) == "daily_alert_cap"
    assert await _field_of(registry, {**good, "nickname": "x"}) == "nickname"


async def test_patch_availability_and_delete(registry: Registry) -> None:
    team, other = await registry.team("360702"), await registry.team("360703", "building_watch")
    v = await registry.volunteer(team)
    url = f"/v1/volunteers/{v['id']}"
    async with registry.client() as c:
        r = await c.patch(url, json={"team_id": other["id"], "skills": ["mediation"],
                                     "quiet_hours": None, "home": {"lat": 25.66, "lon": 114.76}})
        assert r.status_code == 200, r.text
        patched = r.json()
        assert (patched["district"], patched["team_type"]) == ("360703", "building_watch")
        assert patched["home"] == {"lat": 25.66, "lon": 114.76}
        assert patched["revision"] == 2
        bad = await c.patch(url, json={"home": {"lat": 30.0, "lon": 120.0}})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "home"
        r = await c.put(f"{url}/availability",
                        json={"on_duty": False, "until": "2030-01-01T08:00:00+08:00"})
        assert r.status_code == 200, r.text
        assert (r.json()["on_duty"], r.json()["revision"]) == (False, 3)
        assert (await c.delete(url)).status_code == 204
        assert (await c.get(url)).status_code == 404
        assert (await c.delete(url)).status_code == 404
        assert (await c.patch(url, json={"name": "x"})).status_code == 404


async def test_patch_to_a_taken_phone_is_409(registry: Registry) -> None:
    team = await registry.team()
    a, b = await registry.volunteer(team), await registry.volunteer(team)
    async with registry.client() as c:
        r = await c.patch(f"/v1/volunteers/{a['id']}", json={"phone": b["phone"]})
    assert r.status_code == 409


async def test_a_volunteer_may_set_only_their_own_availability(registry: Registry) -> None:
    team = await registry.team()
    me, other = await registry.volunteer(team), await registry.volunteer(team)
    headers = registry.headers("volunteer", volunteer_id=uuid.UUID(me["id"]))
    async with registry.client() as c:
        mine = await c.put(f"/v1/volunteers/{me['id']}/availability", headers=headers,
                           json={"on_duty": False})
        theirs = await c.put(f"/v1/volunteers/{other['id']}/availability", headers=headers,
                             json={"on_duty": False})
        write = await c.patch(f"/v1/volunteers/{me['id']}", headers=headers, json={"name": "x"})
    assert mine.status_code == 200 and mine.json()["on_duty"] is False
    assert theirs.status_code == 403
    assert write.status_code == 403


async def test_supervisors_read_only_their_districts(registry: Registry) -> None:
    mine, theirs = await registry.team("360730"), await registry.team("360731")
    v_mine, v_theirs = await registry.volunteer(mine), await registry.volunteer(theirs)
    async with registry.client("supervisor", "360730") as c:
        assert (await c.get(f"/v1/volunteers/{v_mine['id']}")).status_code == 200
        assert (await c.get(f"/v1/volunteers/{v_theirs['id']}")).status_code == 403
        listed = (await c.get("/v1/volunteers", params={"limit": 500})).json()["items"]
        assert {v["district"] for v in listed} == {"360730"}
        assert (await c.get("/v1/volunteers", params={"district": "360731"})).status_code == 403
        teams = (await c.get("/v1/teams")).json()["items"]
        assert {t["district"] for t in teams} == {"360730"}
        assert (await c.get(f"/v1/teams/{theirs['id']}")).status_code == 403
        assert (await c.post("/v1/teams", json={"name": "x", "type": "patrol",
                                                "district": "360730"})).status_code == 403
        assert (await c.delete(f"/v1/volunteers/{v_mine['id']}")).status_code == 403
    async with registry.client("duty_desk", "360731") as c:
        assert (await c.get(f"/v1/volunteers/{v_theirs['id']}")).status_code == 200
    async with httpx.AsyncClient(base_url=registry.url, timeout=10) as c:
        assert (await c.get("/v1/volunteers")).status_code == 401


async def test_teams_filter_and_page(registry: Registry) -> None:
    made = [await registry.team("360735", t) for t in ("patrol", "patrol", "building_watch")]
    async with registry.client() as c:
        r = await c.get("/v1/teams", params={"district": "360735", "type": "patrol", "limit": 1})
        first = r.json()
        assert len(first["items"]) == 1 and first["next_cursor"]
        r = await c.get("/v1/teams", params={"district": "360735", "type": "patrol", "limit": 1,
                                             "cursor": first["next_cursor"]})
        second = r.json()
        assert second["next_cursor"] is None
        got = {first["items"][0]["id"], second["items"][0]["id"]}
        assert got == {made[0]["id"], made[1]["id"]}
        one = await c.get(f"/v1/teams/{made[2]['id']}")
        assert one.json()["type"] == "building_watch"
        assert (await c.get(f"/v1/teams/{uuid.uuid4()}")).status_code == 404
        bad = await c.post("/v1/teams", json={"name": "x", "type": "swat", "district": "360735"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "type"
        bad = await c.post("/v1/teams", json={"name": "x", "type": "patrol", "district": "360735",
                                              "leader_volunteer_id": str(uuid.uuid4())})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "leader_volunteer_id"
