"""Campaign API on the real broker and database: a dry run's figures against the real run,
reach counted once per message and status, district scope, fields named in 4xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from baiying_dispatcher.prevention.campaign_dryrun import segments
from baiying_shared.events import campaigns
from baiying_shared.events.campaigns import CampaignMessageIssued, CampaignReachChanged
from baiying_shared.events.envelope import wrap
from tests.dispatcher.conftest import System
from tests.dispatcher.support import fresh_area, publish, volunteer
from tests.dispatcher.test_campaign_schedule import NOW, CampaignTap, around, campaign_body
from tests.support import eventually


async def _run_now(system: System, tap: CampaignTap, body: dict[str, Any],
                   n: int) -> tuple[dict[str, Any], list[CampaignMessageIssued]]:
    async with system.client() as c:
        r = await c.post("/v1/campaigns", json=body)
    assert r.status_code == 201, r.text
    created = r.json()

    async def all_issued() -> list[CampaignMessageIssued]:
        found = tap.messages(created["id"])
        return found if len(found) >= n else []

    got = await eventually(all_issued, timeout=30, what=f"{n} messages from the scheduler")
    return created, got


async def test_dry_run_figures_match_the_real_run(system: System) -> None:
    area = fresh_area()
    people = [volunteer(area, 50.0 * i, language="en" if i % 3 == 0 else "zh",
                        team_type="building_watch" if i % 2 else "patrol") for i in range(9)]
    await system.add_volunteers([*people, volunteer(area, 60.0, sms_opt_out=True)])
    body = campaign_body(around(area), NOW)
    async with system.client() as c:
        r = await c.post("/v1/campaigns:dry-run", json=body)
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["volunteers"] == 9 and dry["quiet_hours_skipped"] == 0  # opted out: not asked
    assert dry["residents_estimate"] is None
    tap = CampaignTap(system.settings)
    await tap.start()
    try:
        _, issued = await _run_now(system, tap, body, 9)
    finally:
        await tap.stop()
    assert len(issued) == dry["volunteers"] == len({m.message_id for m in issued})
    base = system.settings.public_base_url
    sent = sum(segments(m.language, m.title, m.advice, base_url=base) for m in issued)
    assert sent == dry["total_segments"]
    assert dry["segments_per_message"] == max(
        segments(m.language, m.title, m.advice, base_url=base) for m in issued)
    rate = len(system.settings.sms_senders) * system.settings.sender_mps
    assert dry["carrier_seconds"] == round(sent / rate, 1)


async def test_only_building_watch_when_asked(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 10.0, team_type="building_watch"),
                                 volunteer(area, 20.0, team_type="patrol")])
    body = campaign_body({**around(area), "team_types": ["building_watch"]}, NOW)
    async with system.client() as c:
        r = await c.post("/v1/campaigns:dry-run", json=body)
    assert r.json()["volunteers"] == 1, r.text


async def test_reach_is_counted_once_per_message_and_status(system: System) -> None:
    area = fresh_area()
    people = [volunteer(area, 30.0 * i) for i in range(3)]
    await system.add_volunteers(people)
    tap = CampaignTap(system.settings)
    await tap.start()
    try:
        created, issued = await _run_now(system, tap, campaign_body(around(area), NOW), 3)
    finally:
        await tap.stop()
    a, b, c_ = issued
    statuses = [(a, "sent", None), (a, "delivered", None), (a, "acknowledged", None),
                (a, "opened", None), (b, "sent", None), (b, "failed", 30003),
                (c_, "sent", None), (c_, "failed", 30003)]
    for m, status, code in statuses:
        await _reach(system, m, status, code)
    await _reach(system, a, "delivered", None)  # a second event for the same status
    env = await _reach(system, b, "sent", None)
    await publish(system.producer, system.settings, campaigns.REACH_TOPIC,
                  str(b.campaign_id), env.payload, envelope=env)  # the same event again
    want = {"audience": "volunteer", "district": "360702", "team_type": "patrol", "issued": 3,
            "sent": 3,
            "delivered": 1, "failed": 2, "failed_by_code": {"30003": 2}, "acknowledged": 1,
            "opened": 1}

    async def counted() -> list[dict[str, Any]]:
        async with system.client() as c:
            r = await c.get(f"/v1/campaigns/{created['id']}/reach")
        assert r.status_code == 200, r.text
        rows: list[dict[str, Any]] = r.json()["rows"]
        return rows if rows and rows[0]["opened"] == 1 and rows[0]["failed"] == 2 else []

    rows = await eventually(counted, timeout=30, what="reach counted")
    assert rows == [want]
    stored = await system.pool.fetchval(
        "SELECT count(*) FROM campaign_reach WHERE campaign_id = $1", uuid.UUID(created["id"]))
    assert stored == len(statuses)


async def _reach(system: System, m: CampaignMessageIssued, status: str,
                 code: int | None) -> Any:
    event = CampaignReachChanged(
        campaign_id=m.campaign_id, run_id=m.run_id, message_id=m.message_id,
        audience="volunteer", district=m.district, team_type=m.team_type,
        status=status, error_code=code, at=datetime.now(UTC))  # type: ignore[arg-type]
    env = wrap(event, producer="notifier")
    return await publish(system.producer, system.settings, campaigns.REACH_TOPIC,
                         str(m.campaign_id), event, envelope=env)


async def test_a_desk_acts_only_in_its_own_districts(system: System) -> None:
    area = fresh_area()
    body = campaign_body({**around(area), "districts": ["360702"]},
                         {"kind": "at", "at": "2030-01-01T09:00:00+08:00"})
    async with system.client("duty_desk", "360703") as other:
        r = await other.post("/v1/campaigns", json=body)
        assert r.status_code == 403, r.text
        assert (await other.post("/v1/campaigns:dry-run", json=body)).status_code == 403
    async with system.client() as own:
        r = await own.post("/v1/campaigns", json=body)
        assert r.status_code == 201, r.text
    cid = r.json()["id"]
    async with system.client("duty_desk", "360703") as other:
        assert (await other.get(f"/v1/campaigns/{cid}")).status_code == 404
        assert (await other.get(f"/v1/campaigns/{cid}/reach")).status_code == 404
        assert (await other.post(f"/v1/campaigns/{cid}:cancel")).status_code == 404
        assert cid not in {c["id"] for c in (await other.get("/v1/campaigns")).json()}
    async with system.client("volunteer") as volunteer_:
        assert (await volunteer_.get("/v1/campaigns")).status_code == 403
    tap = CampaignTap(system.settings)
    await tap.start()
    try:
        async with system.client("supervisor") as sup:
            assert cid in {c["id"] for c in (await sup.get("/v1/campaigns")).json()}
            r = await sup.post(f"/v1/campaigns/{cid}:cancel")
            assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
            assert (await sup.post(f"/v1/campaigns/{cid}:cancel")).status_code == 409

        def cancels() -> list[campaigns.CampaignCancelled]:
            return [e.payload for _, e in tap.seen
                    if isinstance(e.payload, campaigns.CampaignCancelled)
                    and str(e.payload.campaign_id) == cid]  # fmt: skip

        async def told() -> bool:
            return bool(cancels())

        await eventually(told, what="the notifier told to recall the campaign's SMS")
        rows = await system.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2", cid, campaigns.TOPIC)
        assert rows == 1 == len(cancels()), "the refused second cancel wrote nothing"
    finally:
        await tap.stop()


async def test_bad_fields_are_named(system: System) -> None:
    area = fresh_area()
    cases = {
        "schedule.weekday": campaign_body(around(area), {"kind": "weekly", "time": "09:00"}),
        "schedule.at": campaign_body(around(area), {"kind": "at",
                                                    "at": "2020-01-01T09:00:00+08:00"}),
        "schedule.tz": campaign_body(around(area), {"kind": "now", "tz": "Mars/Olympus"}),
        "advice_zh": campaign_body(around(area), NOW, advice_zh="有疑问请拨打13907971234咨询。"),
        "title_zh": campaign_body(around(area), NOW, title_zh=None, advice_zh=None),
        "audience.districts": campaign_body({**around(area), "residents": True}, NOW),
        "audience.radius.m": campaign_body({"radius": {"lat": 25.8, "lon": 114.9, "m": 1}}, NOW),
        "schedule.time": campaign_body(
            {**around(area), "districts": ["360702"], "residents": True},
            {"kind": "weekly", "weekday": 1, "time": "22:30"}),  # residents' quiet window
    }
    async with system.client() as c:
        for field, body in cases.items():
            r = await c.post("/v1/campaigns:dry-run", json=body)
            assert r.status_code == 422, (field, r.text)
            named = {".".join(str(p) for p in d["loc"][1:]) for d in r.json()["detail"]}
            assert field in named, (field, r.text)
