"""Phones and points by need (issue #11): a desk sees the whole number and the exact point of
someone on the way to its incident; everyone else masked numbers and points rounded to
~100 m, in lists, records and the stream. On the real broker and database."""

from __future__ import annotations

from typing import Any

from baiying_dispatcher.domain import POINT_DECIMALS
from baiying_shared.privacy import mask_phone
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n, raise_incident
from tests.dispatcher.test_scoping import listening
from tests.support import eventually


def _rounded(value: float) -> bool:
    return round(value, POINT_DECIMALS) == value


async def _callouts(system: System, role: Any, incident_id: str) -> dict[str, dict[str, Any]]:
    async with system.client(role, "360702") as c:
        r = await c.get(f"/v1/incidents/{incident_id}/callouts")
    assert r.status_code == 200, r.text
    return {c["volunteer_id"]: c for c in r.json()}


async def test_whole_number_and_exact_point_only_to_the_desk_for_people_on_the_way(
    system: System,
) -> None:
    area = fresh_area()
    going, waiting = volunteer(area, 123.4), volunteer(area, 234.5)
    # Points east of the area: their longitudes have more than three decimals.
    assert not _rounded(going.home.lon) and not _rounded(waiting.home.lon)
    await system.add_volunteers([going, waiting])
    async with listening(system, "360702", role="duty_desk") as desk_seen, \
            listening(system, "360702") as sup_seen:
        inc = await raise_incident(system, incident_body(area, need={"total": 2}))
        calls = await issued_n(system, inc["id"], 2)
        mine = next(c for c in calls if c.volunteer_id == going.volunteer_id)
        await reply(system.producer, system.settings, mine, "accept")
        await eventually(lambda: _accepted(sup_seen, inc["id"]), what="the accept streamed")
        await eventually(lambda: _accepted(desk_seen, inc["id"]), what="the desk's accept")

    desk = await _callouts(system, "duty_desk", inc["id"])
    on_way, other = desk[str(going.volunteer_id)], desk[str(waiting.volunteer_id)]
    assert on_way["state"] == "accepted" and on_way["phone"] == going.phone
    assert (on_way["lat"], on_way["lon"]) == (going.home.lat, going.home.lon)
    assert other["phone"] == mask_phone(waiting.phone) != waiting.phone
    assert _rounded(other["lat"]) and _rounded(other["lon"])
    for c in (await _callouts(system, "supervisor", inc["id"])).values():
        assert c["phone"] == mask_phone(c["phone"]) and "*" in c["phone"]
        assert _rounded(c["lat"]) and _rounded(c["lon"])

    for seen, exact in ((sup_seen, False), (desk_seen, True)):
        notices = [n for n in seen if n.get("type") == "callout"
                   and n["incident_id"] == inc["id"]]
        assert notices and not any("phone" in n or "exact" in n for n in notices)
        for n in notices:
            shows_exact = exact and n["state"] == "accepted"
            assert _rounded(n["lat"]) or shows_exact, (exact, n)
            assert _rounded(n["lon"]) is not shows_exact, (exact, n)


async def _accepted(seen: list[dict[str, Any]], incident_id: str) -> bool:
    return any(n.get("state") == "accepted" and n["incident_id"] == incident_id for n in seen)
