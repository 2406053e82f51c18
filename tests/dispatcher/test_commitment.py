"""One commitment at a time: a volunteer on the way to one live incident cannot accept a
second (issue #11). On the real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from baiying_shared.events.callouts import CalloutIssued, CalloutStoodDown
from baiying_shared.sms.templates import OTHER_MAX_SEGMENTS, Language, phrase, render
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, reply, volunteer
from tests.dispatcher.test_mobilisation import incident_body, issued_n, raise_incident
from tests.support import eventually


async def _callouts(system: System, incident_id: str) -> dict[str, dict[str, Any]]:
    async with system.client("supervisor") as c:
        r = await c.get(f"/v1/incidents/{incident_id}/callouts")
    assert r.status_code == 200, r.text
    return {c["volunteer_id"]: c for c in r.json()}


def _of(calls: list[CalloutIssued], person: uuid.UUID) -> CalloutIssued:
    (mine,) = [c for c in calls if c.volunteer_id == person]
    return mine


def _held(system: System, incident_id: str) -> list[CalloutStoodDown]:
    return [s for s in system.tap.of(CalloutStoodDown, incident_id) if s.reason == "held"]


async def _told(system: System, incident_id: str) -> list[CalloutStoodDown] | None:
    return _held(system, incident_id) or None


async def test_two_incidents_one_person_simultaneous_accepts_exactly_one_wins(
    system: System,
) -> None:
    area = fresh_area()
    shared, second, spare = (volunteer(area, d) for d in (100, 200, 300))
    await system.add_volunteers([shared, second, spare])
    # Need 1, over-called twice: each incident calls the two nearest, `shared` in both.
    a = await raise_incident(system, incident_body(area, title="商场走失儿童"))
    b = await raise_incident(system, incident_body(area, title="老人走失"))
    calls_a, calls_b = await issued_n(system, a["id"], 2), await issued_n(system, b["id"], 2)
    one_a, one_b = _of(calls_a, shared.volunteer_id), _of(calls_b, shared.volunteer_id)

    async def accept(incident_id: str, callout_id: uuid.UUID) -> str:
        async with system.client() as c:
            r = await c.post(f"/v1/incidents/{incident_id}/callouts/{callout_id}/reply",
                             json={"action": "accept", "note": "电话接受"})
        assert r.status_code == 200, r.text
        return str(r.json()["state"])

    states = await asyncio.gather(accept(a["id"], one_a.callout_id),
                                  accept(b["id"], one_b.callout_id))
    assert sorted(states) == ["accepted", "declined"], states
    winner, loser = (a, b) if states[0] == "accepted" else (b, a)
    person = str(shared.volunteer_id)
    assert (await _callouts(system, winner["id"]))[person]["state"] == "accepted"
    assert (await _callouts(system, loser["id"]))[person]["state"] == "declined"
    # They are told which incident holds them, and the loser calls the next person.
    told = await eventually(lambda: _told(system, loser["id"]), what="held stand-down")
    assert [(t.volunteer_id, t.held_by) for t in told] == [(shared.volunteer_id,
                                                            winner["title"])]
    assert not _held(system, winner["id"])
    nxt = await issued_n(system, loser["id"], 3)
    assert nxt[-1].volunteer_id == spare.volunteer_id


async def test_a_reply_by_sms_to_a_second_incident_is_refused_with_the_holder(
    system: System,
) -> None:
    area = fresh_area()
    person, other = volunteer(area, 100), volunteer(area, 200)
    await system.add_volunteers([person, other])
    first = await raise_incident(system, incident_body(area, title="走失儿童", need={"total": 1}))
    later = await raise_incident(system, incident_body(area, title="火情", need={"total": 1}))
    mine_first = _of(await issued_n(system, first["id"], 2), person.volunteer_id)
    mine_later = _of(await issued_n(system, later["id"], 2), person.volunteer_id)
    await reply(system.producer, system.settings, mine_first, "accept")
    await eventually(lambda: _state(system, first["id"], person.volunteer_id, "accepted"),
                     what="accepted on the first")
    await reply(system.producer, system.settings, mine_later, "accept")
    told = await eventually(lambda: _told(system, later["id"]), what="held stand-down")
    assert told[0].held_by == "走失儿童" and told[0].callout_id == mine_later.callout_id
    assert (await _callouts(system, later["id"]))[str(person.volunteer_id)]["state"] == "declined"


async def _state(system: System, incident_id: str, person: uuid.UUID, state: str) -> bool:
    return (await _callouts(system, incident_id))[str(person)]["state"] == state


def test_the_held_sms_names_the_holding_incident_in_both_languages() -> None:
    # The notifier's stand-down text for reason "held" (the one message kind this adds).
    languages: tuple[Language, ...] = ("zh", "en")
    for language in languages:
        reason = phrase(language, "held", held_by="老人走失")
        sms = render("stand_down", language, title="商场走失儿童", reason=reason, code="AB12")
        assert "老人走失" in sms.text and "商场走失儿童" in sms.text and "AB12" in sms.text
        assert sms.segments <= OTHER_MAX_SEGMENTS
