"""The compacted topics rebuild the registry exactly; contact events flip the flags once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from baiying_registry import repo
from baiying_shared.events import contacts, teams, volunteers
from baiying_shared.events.envelope import Envelope, decode, encode, wrap
from baiying_shared.kafka.producer import make_producer
from tests.registry.conftest import Registry, new_phone
from tests.registry.topics import read_all
from tests.support import eventually


async def _published(registry: Registry) -> bool:
    return bool(await registry.pool.fetchval(
        "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"))


async def _rebuild(registry: Registry, topic: str) -> dict[str, Any]:
    """Replay the topic from the start: last value per key, a tombstone removes the key."""
    state: dict[str, Any] = {}
    revisions: dict[str, int] = {}
    for record in await read_all(registry.settings, topic):
        key = record.key.decode()
        if record.value is None:
            state.pop(key, None)
            continue
        payload = decode(record.value).payload
        revision = getattr(payload, "revision", None)
        if revision is not None:  # volunteers: each change is a newer revision than the last
            assert revision > revisions.get(key, 0), f"revision went backwards for {key}"
            revisions[key] = revision
        state[key] = payload
    return state


async def test_replaying_the_topics_rebuilds_the_registry(registry: Registry) -> None:
    team_a, team_b = await registry.team("360702"), await registry.team("360704", "building_watch")
    people = [await registry.volunteer(team_a if i % 2 else team_b) for i in range(6)]
    async with registry.client() as c:
        led = await c.post("/v1/teams", json={"name": "楼栋队", "type": "building_watch",
                                              "district": "360704",
                                              "leader_volunteer_id": people[3]["id"]})
        assert led.json()["leader_volunteer_id"] == people[3]["id"], led.text
        await c.patch(f"/v1/volunteers/{people[0]['id']}", json={"team_id": team_a["id"]})
        await c.patch(f"/v1/volunteers/{people[1]['id']}", json={"skills": ["driver"]})
        await c.put(f"/v1/volunteers/{people[2]['id']}/availability", json={"on_duty": False})
        await c.delete(f"/v1/volunteers/{people[3]['id']}")
        await c.delete(f"/v1/volunteers/{people[4]['id']}")
        csv = (f"name,phone,team_id,lat,lon,quiet_start,quiet_end\n"
               f"新人,{new_phone()},{team_a['id']},25.8,114.9,22:00,07:00\n"
               f"改名,{people[5]['phone']},{team_b['id']},25.86,115.01,,\n")
        r = await c.post("/v1/volunteers/import", content=csv.encode(),
                         headers={"Content-Type": "text/csv"})
        assert r.json()["imported"] == 2, r.text
        await c.put(f"/v1/volunteers/{people[5]['id']}/availability",
                    json={"on_duty": True, "until": "2031-05-01T12:00:00Z"})
    await eventually(lambda: _published(registry), timeout=30, what="outbox drained")

    rebuilt = await _rebuild(registry, volunteers.TOPIC)
    async with registry.pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {repo.V_COLUMNS} FROM volunteer_rows")
        team_rows = await conn.fetch(f"SELECT {repo.T_COLUMNS} FROM teams")
    current = {str(r["id"]): repo.volunteer_snapshot(r) for r in rows}
    assert people[3]["id"] not in rebuilt and people[5]["id"] in rebuilt
    assert rebuilt == current
    rebuilt_teams = await _rebuild(registry, teams.TOPIC)
    assert rebuilt_teams == {str(r["id"]): repo.team_snapshot(r) for r in team_rows}
    assert rebuilt_teams[led.json()["id"]].leader_volunteer_id is None, "deleted leader kept"


async def _send(registry: Registry, envelope: Envelope[Any], key: str) -> None:
    producer = make_producer(registry.settings, client_id="test-notifier")
    await producer.start()
    try:
        topic = registry.settings.topic(contacts.TOPIC)
        await producer.send_and_wait(topic, value=encode(envelope), key=key.encode())
    finally:
        await producer.stop()


async def _record(registry: Registry, volunteer_id: str) -> dict[str, Any]:
    async with registry.client() as c:
        return (await c.get(f"/v1/volunteers/{volunteer_id}")).json()  # type: ignore[no-any-return]


async def test_contact_events_set_flags_once_and_republish(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team())
    now = datetime.now(UTC)
    stop = wrap(contacts.SmsOptChanged(phone=v["phone"], opted_out=True, keyword="退订", at=now),
                producer="notifier")
    await _send(registry, stop, v["phone"])
    await _send(registry, stop, v["phone"])  # a redelivered copy must change nothing
    flagged = wrap(contacts.ContactFlagged(phone=v["phone"], error_code=21610,
                                           reason="unsubscribed", at=now), producer="notifier")
    await _send(registry, flagged, v["phone"])

    async def confirmed() -> bool:
        return bool(await registry.pool.fetchval(
            "SELECT error_code = 21610 FROM reachability WHERE volunteer_id = $1::uuid", v["id"]))

    await eventually(confirmed, timeout=30, what="21610 recorded")
    record = await _record(registry, v["id"])
    # The carrier's 21610 confirms the opt-out: one state, one snapshot.
    assert (record["sms_opt_out"], record["phone_flag"]) == (True, None)
    assert record["revision"] == v["revision"] + 1, "the duplicate STOP was applied twice"

    start = wrap(contacts.SmsOptChanged(phone=v["phone"], opted_out=False, keyword="START", at=now),
                 producer="notifier")
    await _send(registry, start, v["phone"])

    async def opted_in() -> bool:
        return (await _record(registry, v["id"]))["sms_opt_out"] is False

    await eventually(opted_in, timeout=30, what="opt-in applied")
    await eventually(lambda: _published(registry), timeout=30, what="outbox drained")
    latest = (await _rebuild(registry, volunteers.TOPIC))[v["id"]]
    # START clears the opt-out and the carrier's 21610 with it (issue 11: it used to stay).
    assert (latest.sms_opt_out, latest.phone_flag, latest.revision) == (
        False, None, v["revision"] + 2)


async def test_contact_event_for_an_unknown_phone_is_harmless(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team())
    now = datetime.now(UTC)
    stranger = wrap(contacts.SmsOptChanged(phone=new_phone(), volunteer_id=uuid.uuid4(),
                                           opted_out=True, keyword="STOP", at=now), producer="n")
    await _send(registry, stranger, "x")
    mine = wrap(contacts.SmsOptChanged(phone=v["phone"], opted_out=True, keyword="STOP", at=now),
                producer="n")
    await _send(registry, mine, "x")  # same key, so it is handled after the stranger's

    async def done() -> bool:
        return bool((await _record(registry, v["id"]))["sms_opt_out"])

    await eventually(done, timeout=30, what="own opt-out applied")
    assert await registry.pool.fetchval(
        "SELECT count(*) FROM processed_events WHERE event_id = $1", stranger.event_id) == 1
