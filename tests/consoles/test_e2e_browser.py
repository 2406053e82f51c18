"""End to end in Chromium on the whole system: desk → dashboard → volunteer app → staffed.

Needs the `system` fixture (the lead's conftest): a running registry + dispatcher (with the
consoles mounted) + notifier + sandbox on one seeded database and broker, exposing
`dispatcher_url`, `notifier_url`, `sandbox_url` and `token(role, districts, volunteer_id=None)`.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.consoles.browser import Watch, chromium, shoot
from tests.support import eventually
from tests.system.harness import System

pytestmark = pytest.mark.browser
LIVE_MS = 10_000  # generous on a shared 2-core box; the pages update within a second normally
HOME, OTHER = "360702", "360703"  # 章贡区 and 南康区
PLACE = (25.8290, 114.9330)  # central 章贡区, where the Ganzhou seed has people


async def _page(browser: Any, watch: Watch, url: str, token: str) -> Any:
    page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
    await page.goto(url)
    await page.evaluate("t => localStorage.setItem('baiying.token', t)", token)
    await page.goto(url)
    await page.wait_for_selector("#live[data-state=live]", timeout=LIVE_MS)
    return page


async def _raise(desk: Any, title: str) -> str:
    await desk.fill("input[name=lat]", str(PLACE[0]))
    await desk.fill("input[name=lon]", str(PLACE[1]))
    assert await desk.input_value("select[name=district]") == HOME
    await desk.fill("input[name=address]", "章贡区文清路 66 号")
    await desk.fill("input[name=title]", title)
    await desk.fill("textarea[name=description]", "店主报称有人持械滋事，请就近增援")
    await desk.fill("input[name=need_total]", "1")
    await desk.click("#raise-submit")
    link = desk.locator("#followed a.link")
    await link.wait_for(timeout=LIVE_MS)
    href = await link.get_attribute("href")
    assert href
    return str(href).rsplit("/", 1)[-1]


async def _first_called(system: Any, incident_id: str) -> str:
    headers = {"Authorization": f"Bearer {system.token('supervisor', [HOME])}"}
    async with httpx.AsyncClient(base_url=system.dispatcher_url, headers=headers) as client:
        r = await client.get(f"/v1/incidents/{incident_id}/callouts")
        r.raise_for_status()
        return str(r.json()[0]["volunteer_id"])


async def test_desk_to_staffed_seen_live_and_only_in_its_district(system: System) -> None:
    people = await system.add_people(3, near=PLACE, channels=("sms", "app"))
    await eventually(lambda: system.indexed(len(people)), timeout=30, what="people indexed")
    base, title = system.dispatcher_url, f"e2e 持械滋事 {uuid.uuid4().hex[:6]}"
    async with chromium() as browser:
        watch = Watch()
        board = await _page(browser, watch, f"{base}/dashboard", system.token("supervisor", [HOME]))
        desk = await _page(browser, watch, f"{base}/desk", system.token("duty_desk", [HOME]))
        incident_id = await _raise(desk, title)
        # The district's desk is offered every next step on a call still mobilising (real API).
        # A locator wait, not wait_for_function: the page's CSP forbids the eval that needs.
        steps = desk.locator("#followed .ns-buttons button")
        await steps.nth(5).wait_for(timeout=LIVE_MS)
        assert await steps.count() == 6
        await shoot(desk, "e2e-desk")

        await board.wait_for_selector(f"#incidents tr:has-text('{title}')", timeout=LIVE_MS)
        await board.click(f"#incidents tr:has-text('{title}') a")
        await board.wait_for_selector(".marker", timeout=LIVE_MS)  # call-outs on the map
        await shoot(board, "e2e-dashboard-mobilising")

        volunteer = await _first_called(system, incident_id)
        token = system.token("volunteer", [HOME], volunteer_id=volunteer)
        app = watch.attach(await browser.new_page())
        await app.goto(f"{system.notifier_url}/app?token={token}")
        await app.click("button[data-action=accept]", timeout=LIVE_MS)
        await shoot(app, "e2e-volunteer-accepted")

        await board.wait_for_selector(".pill-staffed", timeout=LIVE_MS)  # no reload
        assert await board.inner_text(".progress-text") == "1 / 1"
        await shoot(board, "e2e-dashboard-staffed")
        # One coverage figure on every screen: the desk card, the desk list, the dashboard list.
        await desk.wait_for_selector("#followed .progress-text:text-is('1 / 1')", timeout=LIVE_MS)
        row = desk.locator(f"#desk-live li:has-text('{title}') .small")
        await row.filter(has_text="1/1").wait_for(timeout=LIVE_MS)
        await board.goto(f"{base}/dashboard")
        listed = board.locator(f"#incidents tr:has-text('{title}') .progress-text")
        assert await listed.inner_text(timeout=LIVE_MS) == "1 / 1"

        outsider = system.token("supervisor", [OTHER])
        other = await _page(browser, watch, f"{base}/dashboard", outsider)
        await other.click("text=全部")
        assert title not in await other.inner_text("#main")
        watch.allow(404, f"/v1/incidents/{incident_id}")  # the other district gets a 404, shown
        watch.allow(404, f"/v1/incidents/{incident_id}/callouts")
        watch.allow(404, f"/v1/incidents/{incident_id}/audit")
        await other.goto(f"{base}/dashboard/incidents/{incident_id}")
        await other.wait_for_selector("#incident-error", timeout=LIVE_MS)
        await shoot(other, "e2e-other-district")
        watch.assert_clean(base, system.notifier_url)
