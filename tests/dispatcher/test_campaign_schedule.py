"""Campaign runs on a controllable clock: a weekly campaign fires at its slot, once across
instances, skipping people inside their quiet hours; stale slots send nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer

from baiying_dispatcher.app import create_app
from baiying_dispatcher.clock import Clock
from baiying_dispatcher.prevention import campaign_audience, campaign_runs
from baiying_dispatcher.prevention.campaign_model import AudienceIn, ScheduleIn
from baiying_dispatcher.prevention.campaign_schedule import first_run, next_run, not_after
from baiying_shared.events import campaigns
from baiying_shared.events.common import GeoPoint, QuietHours
from tests.dispatcher.conftest import System
from tests.dispatcher.support import CalloutTap, fresh_area, volunteer
from tests.support import eventually, serving

LOCAL = ZoneInfo("Asia/Shanghai")
NOW = {"kind": "now"}


class CampaignTap(CalloutTap):
    """Everything the dispatcher put on prevention.campaigns.v1."""

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.settings.topic(campaigns.TOPIC), bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    def messages(self, campaign_id: str) -> list[campaigns.CampaignMessageIssued]:
        return [e.payload for _, e in self.seen
                if isinstance(e.payload, campaigns.CampaignMessageIssued)
                and str(e.payload.campaign_id) == campaign_id]


def around(area: GeoPoint, m: int = 3000) -> dict[str, Any]:
    """An audience of the volunteers near `area` only (tests share one responder index)."""
    return {"radius": {"lat": area.lat, "lon": area.lon, "m": m}}


def campaign_body(audience: dict[str, Any], schedule: dict[str, Any], **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "反诈宣传", "title_zh": "警惕冒充客服退款",
        "advice_zh": "退款只走官方渠道，不点陌生链接。",
        "title_en": "Fake refund calls", "advice_en": "Refunds only through official channels.",
        "audience": audience, "schedule": schedule,
    }
    body.update(kw)
    return body


def test_weekly_and_monthly_slots_are_local_wall_clock() -> None:
    weekly = ScheduleIn(kind="weekly", weekday=1, time=time(9, 30))
    wed = datetime(2026, 12, 2, 12, 0, tzinfo=LOCAL)  # a Wednesday
    assert first_run(weekly, now=wed) == datetime(2026, 12, 7, 9, 30, tzinfo=LOCAL)
    slot = datetime(2026, 12, 7, 9, 30, tzinfo=LOCAL)
    assert first_run(weekly, now=slot) == slot  # at the slot: this one
    assert next_run(weekly, after=slot) == slot + timedelta(days=7)
    monthly = ScheduleIn(kind="monthly", day=1, time=time(8, 0))
    assert first_run(monthly, now=wed) == datetime(2027, 1, 1, 8, 0, tzinfo=LOCAL)
    assert next_run(ScheduleIn(kind="now"), after=wed) is None


def test_a_message_expires_at_the_recipients_next_quiet_hours() -> None:
    start = datetime(2026, 12, 7, 9, 30, tzinfo=LOCAL)
    ttl = timedelta(hours=6)
    assert not_after(start=start, ttl=ttl, quiet_start=time(12), quiet_end=time(13),
                     zone_now=start) == datetime(2026, 12, 7, 12, 0, tzinfo=LOCAL)
    assert not_after(start=start, ttl=ttl, quiet_start=time(22), quiet_end=time(7),
                     zone_now=start) == start + ttl
    assert not_after(start=start, ttl=ttl, quiet_start=time(8), quiet_end=time(9),
                     zone_now=start) == start + ttl  # today's window is over
    assert not_after(start=start, ttl=ttl, quiet_start=None, quiet_end=None,
                     zone_now=start) == start + ttl


async def test_a_weekly_campaign_fires_on_schedule_once_skipping_quiet_hours(
    system: System,
) -> None:
    area = fresh_area()
    awake = [volunteer(area, 100.0 * i, team_type="information_officer",
                       quiet_hours=QuietHours(start=time(22), end=time(7))) for i in range(3)]
    lunch = volunteer(area, 400.0, quiet_hours=QuietHours(start=time(12), end=time(13)),
                      language="en")
    asleep = [volunteer(area, 500.0 + i, quiet_hours=QuietHours(start=time(9), end=time(10)))
              for i in range(2)]
    await system.add_volunteers([*awake, lunch, *asleep])
    tomorrow = datetime.now(LOCAL) + timedelta(days=1)
    schedule = {"kind": "weekly", "weekday": tomorrow.isoweekday(), "time": "09:30"}
    async with system.client() as c:
        r = await c.post("/v1/campaigns", json=campaign_body(around(area), schedule))
    assert r.status_code == 201, r.text
    created = r.json()
    slot = datetime.combine(tomorrow.date(), time(9, 30), tzinfo=LOCAL)
    assert datetime.fromisoformat(created["next_run_at"]) == slot
    tap = CampaignTap(system.settings)
    await tap.start()
    try:
        await _fires_once_at_the_slot(system, tap, created["id"], slot,
                                      awake=[*awake, lunch], lunch=lunch.volunteer_id, area=area)
    finally:
        await tap.stop()
    await _stale_slots_send_nothing(system, created["id"], slot)

async def _fires_once_at_the_slot(
    system: System, tap: CampaignTap, campaign_id: str, slot: datetime, *,
    awake: list[Any], lunch: uuid.UUID, area: GeoPoint,
) -> None:
    settings, pool = system.settings, system.pool
    await campaign_runs.fire_due(pool, settings=settings, now=slot - timedelta(seconds=1))
    assert await _runs(system, campaign_id) == []
    # Two instances look at the same moment: one run, not two.
    await asyncio.gather(*(campaign_runs.fire_due(pool, settings=settings,
                                                  now=slot + timedelta(seconds=5))
                           for _ in range(3)))
    runs = await _runs(system, campaign_id)
    assert [(r["outcome"], r["volunteers"], r["quiet_skipped"]) for r in runs] == [
        ("sent", 4, 2)]

    async def four() -> list[campaigns.CampaignMessageIssued]:
        found = tap.messages(campaign_id)
        return found if len(found) == 4 else []

    got = await eventually(four, timeout=30, what="4 campaign messages on the broker")
    run_id = uuid.UUID(runs[0]["id"])
    assert {m.message_id for m in got} == {campaigns.message_id(run_id, v.volunteer_id)
                                           for v in awake}
    by_vid = {m.volunteer_id: m for m in got}
    assert by_vid[lunch].language == "en" and by_vid[lunch].title == "Fake refund calls"
    assert by_vid[lunch].not_after == slot.replace(hour=12, minute=0)  # before their quiet hours
    assert {m.not_after for v, m in by_vid.items() if v != lunch} == {
        slot + timedelta(seconds=5) + timedelta(seconds=settings.campaign_message_ttl_s)}
    # Capped, the audience keeps those who pass a notice on.
    async with pool.acquire() as conn:
        capped = await campaign_audience.select(
            conn, audience=AudienceIn.model_validate(around(area)), districts=None,
            clock=Clock.at(slot, settings.dispatch_timezone), limit=3)
    assert {r.team_type for r in capped.recipients} == {"information_officer"}
    async with system.client() as c:
        detail = (await c.get(f"/v1/campaigns/{campaign_id}")).json()
    assert datetime.fromisoformat(detail["next_run_at"]) == slot + timedelta(days=7)


async def _stale_slots_send_nothing(system: System, campaign_id: str, slot: datetime) -> None:
    # Down for two weeks: the missed slot is recorded as stale and sends nothing; the one two
    # hours ago is skipped too, and the campaign goes on at the next future slot.
    late = slot + timedelta(days=14, hours=2)
    await campaign_runs.fire_due(system.pool, settings=system.settings, now=late)
    runs = await _runs(system, campaign_id)
    assert [(r["outcome"], r["volunteers"]) for r in runs] == [("sent", 4), ("stale", 0)]
    assert datetime.fromisoformat(runs[1]["due_at"]) == slot + timedelta(days=7)
    sent = await system.pool.fetchval(
        "SELECT count(*) FROM campaign_messages WHERE campaign_id = $1", uuid.UUID(campaign_id))
    assert sent == 4
    async with system.client() as c:
        detail = (await c.get(f"/v1/campaigns/{campaign_id}")).json()
    assert datetime.fromisoformat(detail["next_run_at"]) == slot + timedelta(days=21)


async def _runs(system: System, campaign_id: str) -> list[dict[str, Any]]:
    async with system.client() as c:
        r = await c.get(f"/v1/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return r.json()["runs"]  # type: ignore[no-any-return]



async def test_a_run_asks_the_notifier_for_residents_of_the_districts(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 10.0)])
    tomorrow = datetime.now(LOCAL) + timedelta(days=1)
    audience = {**around(area), "districts": ["360702"], "residents": True}
    schedule = {"kind": "weekly", "weekday": tomorrow.isoweekday(), "time": "18:00"}
    async with system.client() as c:
        r = await c.post("/v1/campaigns", json=campaign_body(audience, schedule))
    assert r.status_code == 201, r.text
    slot = datetime.combine(tomorrow.date(), time(18), tzinfo=LOCAL)
    tap = CampaignTap(system.settings)
    await tap.start()
    try:
        await campaign_runs.fire_due(system.pool, settings=system.settings, now=slot)

        async def asked() -> list[tuple[str, campaigns.CampaignResidentsRequested]]:
            return [(k, e.payload) for k, e in tap.seen
                    if isinstance(e.payload, campaigns.CampaignResidentsRequested)
                    and str(e.payload.campaign_id) == r.json()["id"]]

        [(key, req)] = await eventually(asked, timeout=30, what="residents requested")
    finally:
        await tap.stop()
    assert key == str(req.run_id) == str(campaign_runs.run_id(uuid.UUID(r.json()["id"]), slot))
    assert req.districts == ("360702",) and req.title_en == "Fake refund calls"
    # Not after the residents' quiet window begins (21:00), though the TTL runs to midnight.
    assert req.not_after == slot.replace(hour=21)


async def test_two_more_instances_with_fast_schedulers_fire_each_run_once(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 10.0), volunteer(area, 20.0)])
    fast = system.settings.model_copy(update={"campaign_tick_s": 0.05})
    async with serving(create_app(fast)), serving(create_app(fast)):
        async with system.client() as c:
            made = [(await c.post("/v1/campaigns", json=campaign_body(around(area), NOW))).json()
                    for _ in range(6)]
        ids = [uuid.UUID(m["id"]) for m in made]
        await eventually(lambda: system.pool.fetchval(
            "SELECT count(*) = $2 FROM campaigns WHERE id = ANY($1::uuid[]) AND status = 'done'",
            ids, len(ids)), timeout=30, what="every campaign run")
    runs = await system.pool.fetch(
        "SELECT campaign_id, count(*) AS n FROM campaign_runs WHERE campaign_id = ANY($1::uuid[])"
        " GROUP BY 1", ids)
    assert sorted(r["n"] for r in runs) == [1] * 6
    messages = await system.pool.fetchval(
        "SELECT count(*) FROM campaign_messages WHERE campaign_id = ANY($1::uuid[])", ids)
    assert messages == 12


async def test_a_campaign_that_cannot_run_does_not_hold_up_the_others(system: System) -> None:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 10.0)])
    day = datetime.now(LOCAL) + timedelta(days=2)
    schedule = {"kind": "weekly", "weekday": day.isoweekday(), "time": "07:10"}
    async with system.client() as c:
        made = [(await c.post("/v1/campaigns", json=campaign_body(around(area), schedule))).json()
                for _ in range(2)]
    poison, good = (uuid.UUID(m["id"]) for m in made)
    # Stored before a change of the audience's shape, say: it no longer parses.
    await system.pool.execute("UPDATE campaigns SET audience = $2 WHERE id = $1",
                              poison, {"radius": "nearby"})
    slot = datetime.combine(day.date(), time(7, 10), tzinfo=LOCAL)
    try:
        fired = await campaign_runs.fire_due(system.pool, settings=system.settings, now=slot)
        left = await system.pool.fetchrow(
            "SELECT status, next_run_at FROM campaigns WHERE id = $1", poison)
    finally:  # other tests list the campaigns of this database: leave it readable, stopped
        await system.pool.execute(
            "UPDATE campaigns SET audience = (SELECT audience FROM campaigns WHERE id = $2),"
            " status = 'cancelled' WHERE id = $1", poison, good)
    assert fired >= 1
    counts = dict(await system.pool.fetch(
        "SELECT c.id, count(r.id) FROM campaigns c LEFT JOIN campaign_runs r"
        " ON r.campaign_id = c.id WHERE c.id = ANY($1::uuid[]) GROUP BY c.id", [poison, good]))
    assert counts == {poison: 0, good: 1}
    assert left["status"] == "active" and left["next_run_at"] == slot  # tried again next pass
