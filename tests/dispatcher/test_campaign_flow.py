"""A campaign end to end through real processes: registry → dispatcher (dry run, run) →
notifier → SMS sandbox → replies and a link opened → reach back in the dispatcher."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from baiying_shared.sms.segments import count as count_segments
from tests.conftest import Infra
from tests.support import eventually
from tests.system.harness import System, running_system

PLACE = (25.7000, 114.8600)  # 章贡区, away from the other system tests' places
LINK = re.compile(r"/c/([A-Za-z0-9_-]{22})")


@pytest.fixture(scope="module")
async def whole(infra: Infra) -> AsyncIterator[System]:
    async with running_system(infra.admin_database_url, infra.kafka_bootstrap,
                              env_extra={"BAIYING_CAMPAIGN_TICK_S": "0.2"}) as system:
        yield system


async def _inbox(system: System, phone: str) -> list[dict[str, Any]]:
    return list(await system.sandbox("GET", f"/v1/phones/{phone}/messages"))


async def test_a_campaign_reaches_volunteers_and_its_reach_comes_back(whole: System) -> None:
    phones = await whole.add_people(4, near=PLACE, team_type="information_officer")
    await eventually(lambda: whole.indexed(4), timeout=60, what="volunteers indexed")
    desk = {"Authorization": f"Bearer {whole.token('duty_desk', ['360702'])}"}
    body = {"name": "防诈提醒", "title_zh": "警惕冒充客服退款",
            "advice_zh": "退款只走官方渠道，不点陌生链接，不向陌生账户转账。",
            "audience": {"radius": {"lat": PLACE[0], "lon": PLACE[1], "m": 2000}},
            "schedule": {"kind": "now"}}
    async with httpx.AsyncClient(base_url=whole.dispatcher_url, headers=desk, timeout=10) as c:
        dry = (await c.post("/v1/campaigns:dry-run", json=body)).json()
        assert dry["volunteers"] == 4, dry
        made = await c.post("/v1/campaigns", json=body)
        assert made.status_code == 201, made.text
        cid = made.json()["id"]
        texts = [await eventually(lambda p=p: _inbox(whole, p), timeout=60, what=f"SMS to {p}")
                 for p in phones]
        assert [len(t) for t in texts] == [1] * 4
        bodies = [t[0]["body"] for t in texts]
        assert sum(count_segments(b).segments for b in bodies) == dry["total_segments"]
        await whole.sandbox("POST", f"/v1/phones/{phones[0]}/reply", json={"body": "收到"})
        token = LINK.search(bodies[1])
        assert token, bodies[1]
        async with httpx.AsyncClient(base_url=whole.notifier_url, timeout=10) as public:
            page = await public.get(f"/c/{token.group(1)}")
        assert page.status_code == 200 and "警惕冒充客服退款" in page.text

        async def reached() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = (await c.get(f"/v1/campaigns/{cid}/reach")).json()["rows"]
            done = rows and rows[0]["delivered"] == 4 and rows[0]["acknowledged"] == 1 \
                and rows[0]["opened"] == 1
            return rows if done else []

        rows = await eventually(reached, timeout=60, what="reach back in the dispatcher")
    assert rows == [{"audience": "volunteer", "district": "360702",
                     "team_type": "information_officer", "issued": 4, "sent": 4,
                     "delivered": 4, "failed": 0, "failed_by_code": {}, "acknowledged": 1,
                     "opened": 1}]
