"""以案说防 screens (issue 14) in Chromium against a real dispatcher: the case library with its
personal-data refusal beside the field, the hotspot map and table, and the monthly report
(printable, CSV). The data is raised and closed through the dispatcher's own API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from baiying_shared.events.common import GeoPoint
from tests.consoles.browser import Watch, chromium, shoot

# The dispatcher's module fixture `system` (a served dispatcher on the real broker and database),
# registered here by importing it: pytest finds fixtures among a test module's names.
from tests.dispatcher.conftest import System
from tests.dispatcher.conftest import system as system
from tests.dispatcher.support import volunteer
from tests.dispatcher.test_cases import case_body
from tests.dispatcher.test_mobilisation import incident_body, issued_n, raise_incident
from tests.dispatcher.test_report_campaigns import reach, send_campaign
from tests.support import eventually

pytestmark = pytest.mark.browser
TIMEOUT = 15_000
HOME = "360702"
PHONE = {"width": 390, "height": 844}
MARKET = GeoPoint(lat=25.8290, lon=114.9330)
STATION = GeoPoint(lat=25.8560, lon=114.9630)  # ~4 km away: another cell


async def _closed(system: System, where: GeoPoint, category: str, title: str) -> str:
    inc = await raise_incident(system, incident_body(where, category=category, title=title))
    async with system.client() as c:
        r = await c.post(f"/v1/incidents/{inc['id']}/close")
    assert r.status_code == 200, r.text
    return str(inc["id"])


async def _staffed(system: System) -> str:
    """A theft at the market that one patrol member accepts: people mobilised in the report."""
    await system.add_volunteers([volunteer(MARKET, 150, district=HOME, team_type="patrol")])
    inc = await raise_incident(system, incident_body(MARKET, category="theft", title="扒窃现行"))
    (first,) = await issued_n(system, inc["id"], 1)
    async with system.client() as desk:
        r = await desk.post(f"/v1/incidents/{inc['id']}/callouts/{first.callout_id}/reply",
                            json={"action": "accept", "note": "电话确认"})
        assert r.status_code == 200, r.text

        async def staffed() -> bool:
            return bool((await desk.get(f"/v1/incidents/{inc['id']}")).json()["status"]
                        == "staffed")

        await eventually(staffed, timeout=20, what="staffed")
    return str(inc["id"])


@pytest.fixture(scope="module")
async def board(system: System) -> dict[str, Any]:
    """Three closed thefts at the market, one closed fraud at the station, written up as a case,
    and one staffed theft at the market."""
    thefts = [await _closed(system, MARKET, "theft", f"菜市场扒窃 {i}") for i in range(3)]
    fraud = await _closed(system, STATION, "fraud", "冒充客服诈骗")
    async with system.client("supervisor") as c:
        r = await c.post("/v1/cases", json=case_body(fraud, category="fraud"))
    assert r.status_code == 201, r.text
    return {"thefts": thefts, "fraud": fraud, "case": r.json(), "staffed": await _staffed(system)}


async def _open(browser: Any, watch: Watch, system: System, path: str, ready: str) -> Any:
    page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
    await page.goto(f"{system.url}{path}")
    token = system.token("supervisor", HOME)["Authorization"][7:]
    await page.evaluate("t => localStorage.setItem('baiying.token', t)", token)
    await page.goto(f"{system.url}{path}")
    await page.locator(ready).first.wait_for(timeout=TIMEOUT)
    return page


async def _api(system: System, path: str, **params: Any) -> Any:
    async with system.client("supervisor") as c:
        r = await c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r


async def test_case_library_search_read_and_a_refused_number_beside_its_field(
    system: System, board: dict[str, Any],
) -> None:
    case = board["case"]
    async with chromium() as browser:
        watch = Watch()
        watch.allow(422, "/v1/cases")
        page = await _open(browser, watch, system,
                           f"/cases.html?incident={board['thefts'][1]}", "#cases li")
        picked = page.locator("#case-form select[name=incident_id]")
        assert await picked.input_value() == board["thefts"][1]  # pre-selected from the link
        assert await page.get_attribute("#case-detail", "data-id") == case["id"]
        account = await page.inner_text("#case-account")
        assert account == case["account_zh"] and "黄建平" not in account and "黄某" in account
        assert await page.inner_text("#case-advice") == case["advice_zh"]
        await page.select_option("#case-category", "theft")
        await page.click("#case-search button[type=submit]")
        await page.locator("#cases-empty").wait_for(timeout=TIMEOUT)
        await page.select_option("#case-category", "fraud")
        await page.click("#case-search button[type=submit]")
        await page.locator(f"#cases li[data-id='{case['id']}']").wait_for(timeout=TIMEOUT)

        form = page.locator("#case-form")
        await form.locator("select[name=incident_id]").select_option(board["thefts"][0])
        await form.locator("input[name=title_zh]").fill("菜市场扒窃")
        await form.locator("textarea[name=account_zh]").fill(
            "早市人多拥挤，事主王秀英在文清路菜市场买菜时被人从背包中偷走手机。")
        await form.locator("textarea[name=advice_zh]").fill("有疑问请拨打8123456，财物放在身前。")
        await page.click("#case-save")
        refusal = form.locator(".field-error[data-for=advice_zh]")
        await refusal.filter(has_text="长数字").wait_for(timeout=TIMEOUT)
        advice = form.locator("textarea[name=advice_zh]")
        assert await advice.get_attribute("aria-invalid") == "true"
        assert await form.locator(".field-error[data-for=account_zh]").inner_text() == ""
        await shoot(page, "cases-pii-refused")

        await advice.fill("人多时把包背在身前，手机不放外侧口袋。")
        await page.click("#case-save")
        # The saved case is shown (the list may hold other tests' cases already).
        await page.locator(f"#case-detail:not([data-id='{case['id']}'])").wait_for(
            timeout=TIMEOUT)
        made = await page.get_attribute("#case-detail", "data-id")
        shown = await page.inner_text("#case-account")
        assert made != case["id"] and "王秀英" not in shown and "王某" in shown
        read = (await _api(system, f"/v1/cases/{made}")).json()
        assert read["incident_id"] == board["thefts"][0] and read["account_zh"] == shown
        await page.click(f"#cases li[data-id='{case['id']}']")
        await page.click("#lang")
        await page.locator("#case-account", has_text=case["account_en"]).wait_for(timeout=TIMEOUT)
        await shoot(page, "cases-en")
        watch.assert_clean(system.url)


async def test_hotspot_map_table_week_and_the_campaign_link(
    system: System, board: dict[str, Any],
) -> None:
    data = (await _api(system, "/v1/hotspots", days=7, cell_m=500, top=10)).json()
    top = data["cells"][0]
    assert top["count"] >= 4 and len(data["cells"]) >= 2
    async with chromium() as browser:
        watch = Watch()
        page = await _open(browser, watch, system, "/hotspots.html", "#hot-cells tbody tr")
        await page.click("#hot-window [data-days='7']")
        await page.locator("#hot-window [data-days='7'].active").wait_for(timeout=TIMEOUT)
        rows = page.locator("#hot-cells tbody tr")
        assert await rows.count() == len(data["cells"])
        first = rows.first
        assert await first.get_attribute("data-cell") == f"{top['row']}:{top['col']}"
        assert (await first.locator("td").nth(2).inner_text()).strip() == str(top["count"])
        assert await page.locator("path.hot-cell").count() == len(data["cells"])
        href = await first.locator("a.campaign-link").get_attribute("href") or ""
        assert href.startswith(f"campaigns.html?hotspot={top['row']}%3A{top['col']}&cell_m=500")
        assert "from=" in href
        peak = page.locator(f"#hot-week td[data-hour='{top['peak_hour']}']")
        assert (await peak.inner_text()).strip() == str(data["week"][top["peak_hour"]])
        assert await page.locator("path.hot-dot").count() == len(data["cells"])
        await shoot(page, "hotspots")
        # Filtered to fraud, the table is the API's fraud cells (other tests of the session
        # may have raised fraud in the district too, so count them rather than assume one).
        fraud = (await _api(system, "/v1/hotspots", days=7, cell_m=500, top=10,
                            category="fraud")).json()["cells"]
        assert fraud and len(fraud) < len(data["cells"])
        await page.select_option("#hot-category", "fraud")
        await rows.nth(len(fraud)).wait_for(state="detached", timeout=TIMEOUT)
        assert await rows.count() == len(fraud)
        assert (await rows.first.locator("td").nth(2).inner_text()).strip() == str(
            fraud[0]["count"])
        watch.assert_clean(system.url)


async def test_monthly_report_page_prints_and_downloads_the_csv(
    system: System, board: dict[str, Any], tmp_path: Path,
) -> None:
    month = (await _api(system, "/v1/incidents/" + board["fraud"])).json()["created_at"][:7]
    cid, (first, _, _) = await send_campaign(system)  # two of its three messages in HOME
    await reach(system, cid, first, "delivered")
    rows = {r["district"]: r for r in (await _api(system, "/v1/reports/monthly",
                                                  month=month)).json()}
    csv = (await _api(system, "/v1/reports/monthly", month=month, format="csv")).content
    assert rows[HOME]["callouts"] >= 5 and rows[HOME]["mobilised"]["patrol"] >= 1
    assert rows[HOME]["median_to_staffed_s"] is not None
    async with chromium() as browser:
        watch = Watch()
        page = await _open(browser, watch, system, f"/report.html?month={month}",
                           "#report tbody tr")
        home = page.locator(f"#report tr[data-district='{HOME}']")
        assert (await home.locator("td[data-col=callouts]").inner_text()) == str(
            rows[HOME]["callouts"])
        assert (await home.locator("td[data-col=mobilised]").inner_text()) == str(
            sum(rows[HOME]["mobilised"].values()))
        assert (await home.locator("td[data-col=mobilised_patrol]").inner_text()) == str(
            rows[HOME]["mobilised"]["patrol"])
        assert await page.locator("#report tr.total[data-district='360700']").count() == 1
        reached = rows[HOME]["campaigns"]
        assert reached["issued"] >= 2 and reached["delivered"] >= 1
        line = page.locator(f"#report-campaigns tr[data-district='{HOME}']")
        for figure in ("campaigns", "issued", "delivered", "failed"):
            assert (await line.locator(f"td[data-col={figure}]").inner_text()) == str(
                reached[figure])
        async with page.expect_download() as got:
            await page.click("#report-csv")
        download = await got.value
        saved = tmp_path / "report.csv"
        await download.save_as(saved)
        assert saved.read_bytes() == csv
        await shoot(page, "report")
        await page.emulate_media(media="print")
        assert not await page.locator("#topbar").is_visible()
        assert not await page.locator("#report-print").is_visible()
        assert await page.locator("#report").is_visible()
        assert await page.locator("#report-campaigns").is_visible()
        await shoot(page, "report-print")
        watch.assert_clean(system.url)
    async with httpx.AsyncClient(base_url=system.url) as anonymous:
        assert (await anonymous.get("/v1/reports/monthly", params={"month": month})).status_code \
            == 401


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_prevention_screens_fit_a_phone(
    system: System, board: dict[str, Any], lang: str,
) -> None:
    """A supervisor on a phone (390 px) reads every 以案说防 screen without sideways scrolling."""
    async with chromium() as browser:
        watch = Watch()
        page = watch.attach(await browser.new_page(viewport=PHONE))
        await page.goto(f"{system.url}/cases.html")
        token = system.token("supervisor", HOME)["Authorization"][7:]
        await page.evaluate("([t, l]) => { localStorage.setItem('baiying.token', t);"
                            " localStorage.setItem('baiying.lang', l); }", [token, lang])
        for path, ready, name in (("/cases.html", "#cases li", "cases"),
                                  ("/hotspots.html", "#hot-cells tbody tr", "hotspots"),
                                  ("/report.html", "#report tbody tr", "report"),
                                  ("/campaigns.html", "#camp-form", "campaigns")):
            await page.goto(f"{system.url}{path}")
            await page.locator(ready).first.wait_for(timeout=TIMEOUT)
            wide = await page.evaluate("document.scrollingElement.scrollWidth")
            await shoot(page, f"{name}-390-{lang}")
            assert wide <= PHONE["width"], f"{path} is {wide} px wide"
            for button in await page.locator("main button:visible").all():  # none cut off
                box = await button.bounding_box()
                assert box and box["x"] + box["width"] <= PHONE["width"], (path, box)
        watch.assert_clean(system.url)
