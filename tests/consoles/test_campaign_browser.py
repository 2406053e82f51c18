"""The campaign screen (issue 14) in Chromium against a real dispatcher: pre-filled from a
hotspot, a case chosen, dry run before send (send refused for an edited form), the campaign
in the list with its run and reach table, a refused field shown beside it, and English."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from baiying_shared.events import campaigns
from baiying_shared.events.campaigns import CampaignReachChanged
from tests.consoles.browser import Watch, chromium, shoot
from tests.consoles.test_prevention_browser import _closed, _open
from tests.dispatcher.conftest import System
from tests.dispatcher.conftest import system as system
from tests.dispatcher.support import fresh_area, publish, volunteer
from tests.dispatcher.test_cases import case_body
from tests.support import eventually

pytestmark = pytest.mark.browser
TIMEOUT = 15_000


@pytest.fixture(scope="module")
async def scene(system: System) -> dict[str, Any]:
    """Five volunteers in one small area (two read English) and a fraud case in the library."""
    area = fresh_area()
    people = [volunteer(area, 40.0 * i, language="en" if i < 2 else "zh",
                        team_type="information_officer" if i % 2 else "patrol") for i in range(5)]
    await system.add_volunteers(people)
    fraud = await _closed(system, area, "fraud", "冒充客服诈骗")
    async with system.client("supervisor") as c:
        r = await c.post("/v1/cases", json=case_body(fraud, category="fraud"))
    assert r.status_code == 201, r.text
    return {"area": area, "people": people, "case": r.json()}


async def _figure(page: Any, fid: str) -> str:
    return str(await page.inner_text(f"#{fid} b"))


async def test_hotspot_prefill_dry_run_then_send_and_reach(
    system: System, scene: dict[str, Any],
) -> None:
    area, case = scene["area"], scene["case"]
    send_at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    query = urlencode({"hotspot": "101:202", "cell_m": 1000, "lat": f"{area.lat:.5f}",
                       "lon": f"{area.lon:.5f}", "from": send_at.isoformat()})
    async with chromium() as browser:
        watch = Watch()
        page = await _open(browser, watch, system, f"/campaigns.html?{query}", "#camp-form")
        assert "101:202" in await page.inner_text("#camp-hotspot")
        form = page.locator("#camp-form")
        assert await form.locator("select[name='schedule.kind']").input_value() == "at"
        assert await form.locator("input[name='schedule.at']").input_value() != ""
        await form.locator("select[name=case_id]").select_option(case["id"])
        assert await page.locator("#camp-send").is_disabled()
        await page.click("#camp-dry")
        await page.locator("#camp-dry-result").wait_for(timeout=TIMEOUT)
        assert await _figure(page, "dry-volunteers") == "5"
        assert await page.locator("#camp-send").is_enabled()
        await shoot(page, "campaign-dry-run")
        # Any edit after the dry run: send waits for a new one.
        await form.locator("select[name='schedule.kind']").select_option("now")
        assert await page.locator("#camp-send").is_disabled()
        await page.click("#camp-dry")
        await page.locator("#camp-send:not([disabled])").wait_for(timeout=TIMEOUT)
        await page.click("#camp-send")
        detail = page.locator("#camp-detail")
        await detail.wait_for(timeout=TIMEOUT)
        campaign_id = await detail.get_attribute("data-id")
        assert campaign_id and await page.locator(f"#camp-list tr[data-id='{campaign_id}']").count()
        await _reach_reported(system, uuid.UUID(campaign_id))
        await page.click(f"#camp-list tr[data-id='{campaign_id}']")
        await page.locator("#camp-runs").wait_for(timeout=TIMEOUT)
        patrol = page.locator("#camp-reach tr[data-team=patrol] td")
        await patrol.first.wait_for(timeout=TIMEOUT)
        assert [await c.inner_text() for c in await patrol.all()][2:] == [
            "3", "3", "2", "1 (30003×1)", "1", "0"]
        # Information officers were issued theirs and have reported nothing yet: a row of zeros.
        officers = page.locator("#camp-reach tr[data-team=information_officer] td")
        assert [await c.inner_text() for c in await officers.all()][2:] == [
            "2", "0", "0", "0", "0", "0"]
        await shoot(page, "campaign-reach")
        name = await form.locator("input[name=name]").input_value()
        await page.click("#lang")
        await page.get_by_text("Prevention campaigns").first.wait_for(timeout=TIMEOUT)
        # The form is rebuilt in English with what was typed and chosen, not its pre-fill.
        assert await form.locator("input[name=name]").input_value() == name == "热点网格 101:202"
        assert await form.locator("select[name='schedule.kind']").input_value() == "now"
        await page.click(f"#camp-list tr[data-id='{campaign_id}']")
        await page.locator("#camp-reach").wait_for(timeout=TIMEOUT)
        await shoot(page, "campaign-reach-en")
        watch.assert_clean(system.url)


async def _reach_reported(system: System, campaign_id: uuid.UUID) -> None:
    """Wait for the run, then report reach for its patrol members as the notifier would."""
    rows = await eventually(lambda: system.pool.fetch(
        "SELECT * FROM campaign_messages WHERE campaign_id = $1 AND team_type = 'patrol'",
        campaign_id), timeout=30, what="the run's messages")
    statuses = ["sent", "delivered", "acknowledged"], ["sent", "delivered"], ["sent", "failed"]
    for row, chain in zip(rows, statuses, strict=True):
        for status in chain:
            event = CampaignReachChanged(
                campaign_id=campaign_id, run_id=row["run_id"], message_id=row["message_id"],
                audience="volunteer", district=row["district"], team_type="patrol",
                status=status, error_code=30003 if status == "failed" else None,  # type: ignore[arg-type]
                at=datetime.now(UTC))
            await publish(system.producer, system.settings, campaigns.REACH_TOPIC,
                          str(campaign_id), event)
    await eventually(lambda: system.pool.fetchval(
        "SELECT count(*) = 7 FROM campaign_reach WHERE campaign_id = $1", campaign_id),
        timeout=30, what="reach stored")


async def test_a_refused_field_is_shown_beside_it(system: System, scene: dict[str, Any]) -> None:
    async with chromium() as browser:
        watch = Watch()
        watch.allow(422, "/v1/campaigns:dry-run")
        page = await _open(browser, watch, system, "/campaigns.html", "#camp-form")
        form = page.locator("#camp-form")
        await form.locator("input[name=name]").fill("夜间防盗提醒")
        await form.locator("input[name=source][value=free]").check()
        await form.locator("input[name=title_zh]").fill("夜间防盗")
        await form.locator("textarea[name=advice_zh]").fill("如遇可疑情况请拨打13907971234联系。")
        await page.click("#camp-dry")
        error = form.locator(".field-error[data-for=advice_zh]")
        await error.wait_for(timeout=TIMEOUT)
        assert (await error.inner_text()).strip()
        assert await page.locator("#camp-send").is_disabled()
        await shoot(page, "campaign-refused")
        watch.assert_clean(system.url)
