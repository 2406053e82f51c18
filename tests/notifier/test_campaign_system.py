"""A campaign end to end through the real processes: registry → dispatcher (campaign, run) →
prevention.campaigns.v1 → notifier → sandbox SMS with a link → reply and page → reach back at
the dispatcher's GET /v1/campaigns/{id}/reach."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.faults.crowd import indexed
from tests.notifier.test_campaign_kit import LINK
from tests.support import eventually
from tests.system.harness import System

# A place of its own (the system is shared by the session's tests), in 章贡区.
PLACE = (25.8650, 114.8700)


async def _campaign_sms(system: System, phone: str) -> list[str]:
    msgs = await system.sandbox("GET", f"/v1/phones/{phone}/messages")
    return [m["body"] for m in msgs if LINK.search(m["body"])]


async def test_a_campaign_reaches_volunteers_and_its_reach_comes_back(system: System) -> None:
    phones = await system.add_people(3, near=PLACE, team_type="information_officer")
    await eventually(lambda: indexed(system, phones), timeout=60, what="people indexed")
    desk = {"Authorization": f"Bearer {system.token('admin')}"}
    body: dict[str, Any] = {
        "name": "反诈宣传（系统测试）", "title_zh": "警惕冒充客服退款",
        "advice_zh": "退款只走官方渠道，不点陌生链接。", "title_en": "Fake refund calls",
        "advice_en": "Refunds only through official channels.",
        "audience": {"radius": {"lat": PLACE[0], "lon": PLACE[1], "m": 800}},
        "schedule": {"kind": "now"},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=system.dispatcher_url, headers=desk) as api:
        r = await api.post("/v1/campaigns", json=body)
        assert r.status_code == 201, r.text
        campaign_id = r.json()["id"]

        async def everyone_texted() -> bool:
            got = await asyncio.gather(*(_campaign_sms(system, p) for p in phones))
            return all(len(g) == 1 for g in got)

        await eventually(everyone_texted, timeout=60, what="a campaign SMS on each phone")
        first = (await _campaign_sms(system, phones[0]))[0]
        assert "警惕冒充客服退款" in first
        found = LINK.search(first)
        assert found
        async with httpx.AsyncClient(base_url=system.notifier_url) as web:
            page = await web.get(f"/c/{found.group(1)}")
        assert page.status_code == 200 and "退款只走官方渠道" in page.text
        await system.sandbox("POST", f"/v1/phones/{phones[1]}/reply", json={"body": "收到"})

        async def reach() -> dict[str, int] | None:
            rows = (await api.get(f"/v1/campaigns/{campaign_id}/reach")).json()["rows"]
            totals = {k: sum(r[k] for r in rows) for k in ("sent", "delivered", "opened",
                                                           "acknowledged", "failed")}
            want = {"sent": 3, "delivered": 3, "opened": 1, "acknowledged": 1, "failed": 0}
            return totals if totals == want else None

        await eventually(reach, timeout=60, what="reach at the dispatcher")
        rows = (await api.get(f"/v1/campaigns/{campaign_id}/reach")).json()["rows"]
        assert {(r["district"], r["team_type"]) for r in rows} == {
            ("360702", "information_officer")}  # fmt: skip
