"""The consoles as a duty officer uses them, in Chromium, both languages, 1440×900 and 390 px.

Against the scripted dispatcher (tests/consoles/fake_dispatcher.py), which answers with the
dispatcher's own models and coverage: the desk's own live list beyond 12 others, the raise
button in sight, the standard-address search, next steps (desk of the district only) and
their line on a newest-first timeline, roles, narrow screens, the English switch.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page

from baiying_dispatcher.schemas import IncidentIn
from baiying_shared.auth import Role, mint_token
from baiying_shared.events.common import GeoPoint
from baiying_shared.settings import CommonSettings
from tests.consoles.browser import Watch, chromium, shoot
from tests.consoles.fake_dispatcher import FakeDispatcher, app_with, sample
from tests.support import eventually, serving

pytestmark = pytest.mark.browser
TIMEOUT = 10_000
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _token(role: Role, districts: list[str]) -> str:
    return str(mint_token(CommonSettings(), sub=f"{role}-{districts[0]}", role=role,
                          districts=districts))


def _board() -> tuple[FakeDispatcher, dict[str, Any]]:
    """The sample board, 14 more live incidents of this desk, 13 of another district's."""
    fake = FakeDispatcher()
    ids: dict[str, Any] = dict(sample(fake))
    for i in range(14):
        fake.add(IncidentIn(title=f"本台警情 {i:02d}", category="robbery", address="文清路",
                            location=GeoPoint(lat=25.83, lon=114.93), district="360702",
                            need={"total": 2}), ago_s=4000 + i * 60, called=2)
    for i in range(13):
        fake.add(IncidentIn(title=f"南康警情 {i:02d}", category="theft", address="蓉江路",
                            location=GeoPoint(lat=25.66, lon=114.77), district="360703",
                            need={"total": 1}), ago_s=10 + i, called=1)
    fake.address("红旗大道 18 号", "360702", "东外街道", 25.8301, 114.9402)
    fake.address("红旗大道 20 号", "360702", "东外街道", 25.8305, 114.9410)
    fake.address("红旗大道 9 号", "360703", "蓉江街道", 25.66, 114.77)  # not this desk's
    return fake, ids


async def _open(browser: Browser, watch: Watch, url: str, token: str, size: dict[str, int],
                lang: str = "zh") -> Page:
    page = watch.attach(await browser.new_page(viewport=size))
    await page.goto(url)
    await page.evaluate("([t, l]) => { localStorage.setItem('baiying.token', t);"
                        " localStorage.setItem('baiying.lang', l); }", [token, lang])
    await page.goto(url)
    await page.wait_for_selector("#live[data-state=live]", timeout=TIMEOUT)
    return page


async def _no_sideways_scroll(page: Page) -> None:
    wide = await page.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= PHONE["width"], f"page is {wide} px wide"
    bar = await page.locator("#topbar").bounding_box()
    assert bar and bar["height"] < 140, bar  # wraps by item, never one character per line


async def test_desk_lists_its_live_incidents_finds_addresses_and_keeps_raise_in_sight() -> None:
    fake, _ = _board()
    async with serving(app_with(fake)) as base, chromium() as browser:
        watch = Watch()
        page = await _open(browser, watch, base + "/desk", _token("duty_desk", ["360702"]), DESKTOP)
        await page.wait_for_selector("#desk-live li")
        # 3 + 14 live in 章贡区 (the cancelled/none of 南康区): all there, newest first.
        titles = await page.locator("#desk-live .recent-title").all_inner_texts()
        assert len(titles) == 16 and "本台警情 13" in titles, titles
        assert not [x for x in titles if x.startswith("南康")]
        assert titles.index("本台警情 00") < titles.index("本台警情 13")
        button = await page.locator("#raise-submit").bounding_box()
        assert button and button["y"] + button["height"] <= DESKTOP["height"]
        assert await page.locator("select[name=category] option[value=robbery]").inner_text() \
            == "抢劫抢夺"

        # A refusal the API names by field lands beside it, with the server's reason.
        watch.allow(422, "/v1/incidents")
        for name, value in (("lat", "24.55"), ("lon", "115.0"), ("title", "远处"),
                            ("address", "某地")):
            await page.fill(f"[name={name}]", value)
        await page.select_option("select[name=district]", "360702")  # the desk's, far away
        await page.click("#raise-submit")
        slot = page.locator(".field-error[data-for=lat]")
        await slot.filter(has_text="此项有误：35.2 km outside").wait_for(timeout=TIMEOUT)
        assert await page.get_attribute("input[name=lat]", "aria-invalid") == "true"
        assert await page.inner_text("#raise-error") == "请修正标红的项目后再发起"
        assert len(fake.incidents) == 30  # nothing was raised

        await page.fill("input[name=address]", "红旗大道")
        await page.wait_for_selector("#suggest li[data-id]")
        assert await page.locator("#suggest li[data-id]").count() == 2  # only its districts
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")  # picks the second; does not raise
        assert await page.input_value("input[name=address]") == "红旗大道 20 号"
        assert await page.input_value("input[name=lat]") == "25.8305"
        assert await page.input_value("input[name=area]") == "东外街道"
        assert await page.input_value("select[name=district]") == "360702"
        await shoot(page, "desk-live-list-zh")
        await page.close()
        watch.assert_clean(base)


async def test_next_steps_for_the_districts_desk_only_and_shown_newest_first() -> None:
    fake, ids = _board()
    unmet = ids["unmet"]
    async with serving(app_with(fake)) as base, chromium() as browser:
        watch = Watch()
        url = f"{base}/dashboard/incidents/{unmet}"
        page = await _open(browser, watch, url, _token("duty_desk", ["360702"]), DESKTOP)
        await page.wait_for_function(
            "document.querySelectorAll('.ns-buttons button').length === 6", timeout=TIMEOUT)
        await page.click("#ns-widen")
        await page.select_option("select[name=radius_m]", "6000")
        await page.click("#ns-go-widen")
        await page.wait_for_selector("#timeline li:first-child:has-text('扩大半径 → 6.0 km')",
                                     timeout=TIMEOUT)
        assert fake.steps == [(unmet, {"action": "widen", "radius_m": 6000})]
        await page.wait_for_selector("#fig-radius:has-text('6.0 km')")
        await page.click("#ns-phoned_reply")
        await page.select_option("select[name=reply]", "decline")
        await page.fill("input[name=note]", "电话中说今晚值班走不开")
        await page.click("#ns-go-phoned_reply")
        await page.wait_for_selector("#timeline li:first-child:has-text('登记电话回复')",
                                     timeout=TIMEOUT)
        assert fake.steps[-1][1]["reply"] == "decline"
        line = await page.inner_text("#timeline li:first-child")
        assert "（刘伟：拒绝）" in line, line  # the named volunteer and what they said
        assert fake.steps[-1][1]["note"] == "电话中说今晚值班走不开"
        # The need changes as a mix too, not only as a head count.
        await page.click("#ns-change_need")
        await page.fill(".ns-form input[name=total]", "4")
        await page.fill(".ns-form input[name=team_patrol]", "2")
        await page.fill(".ns-form input[name=team_building_watch]", "1")
        await shoot(page, "incident-next-steps-zh")
        await page.click("#ns-go-change_need")

        async def need_sent() -> Any:
            return fake.steps[-1][1] if fake.steps[-1][1]["action"] == "change_need" else None

        sent = await eventually(need_sent, timeout=10, what="the changed need sent")
        mix = {"patrol": 2, "building_watch": 1}
        assert sent["need"] == {"total": 4, "teams": mix, "skills": {}}
        await page.close()

        # A supervisor is offered nothing (and asks for nothing); for another district's desk
        # the incident does not exist.
        sup = await _open(browser, watch, url, _token("supervisor", ["360702"]), DESKTOP)
        await sup.wait_for_selector(".progress")
        assert await sup.locator(".ns-buttons button").count() == 0
        await sup.close()
        for tail in ("", "/callouts", "/audit"):
            watch.allow(404, f"/v1/incidents/{unmet}{tail}")
        other = await _open(browser, watch, url, _token("duty_desk", ["360703"]), DESKTOP)
        await other.wait_for_selector("#incident-error")
        assert await other.locator(".ns-buttons button").count() == 0
        await other.close()
        watch.assert_clean(base)
    assert len(fake.steps) == 3  # widen, phoned reply, change need: none by the others


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_page_at_390_px(lang: str) -> None:
    fake, ids = _board()
    async with serving(app_with(fake)) as base, chromium() as browser:
        watch = Watch()
        desk = _token("duty_desk", ["360702"])
        page = await _open(browser, watch, base + "/desk", desk, PHONE, lang)
        await page.wait_for_selector("#raise-submit")
        await _no_sideways_scroll(page)
        button = await page.locator("#raise-submit").bounding_box()
        assert button and button["y"] + button["height"] <= PHONE["height"]  # sticky
        await shoot(page, f"desk-390-{lang}")
        for path, ready, name in (
            ("/dashboard", "#incidents tbody tr", "dashboard"),
            (f"/dashboard/incidents/{ids['staffed']}", "#timeline li", "incident"),
            ("/dashboard/stats", "#chart-rate-team_type", "stats"),
        ):
            await page.goto(base + path)
            await page.wait_for_selector(ready, timeout=TIMEOUT)
            await _no_sideways_scroll(page)
            await shoot(page, f"{name}-390-{lang}")
        await page.close()
        watch.assert_clean(base)


async def test_the_english_switch_is_complete() -> None:
    fake, ids = _board()
    async with serving(app_with(fake)) as base, chromium() as browser:
        watch = Watch()
        url = f"{base}/dashboard/incidents/{ids['staffed']}"
        page = await _open(browser, watch, url, _token("supervisor", ["360702"]), DESKTOP, "en")
        await page.wait_for_selector("#timeline li")
        assert await page.title() == "Baiying · Dashboard"
        head = await page.inner_text(".page-head")
        assert "Theft" in head and "Zhanggong" in head and "盗窃" not in head
        times = await page.locator("#timeline time").all_inner_texts()
        assert all("ago" in x or x == "now" for x in times), times  # relative, in English
        assert "minutes ago" in times[0]
        assert "Raised by" in await page.inner_text(".details")
        await page.goto(base + "/dashboard")
        await page.wait_for_selector("#incidents tbody tr")
        assert await page.title() == "Baiying · Dashboard"
        await page.click("#lang")  # and back: the tab title follows
        await page.wait_for_selector("h1:has-text('辖区警情')")
        assert await page.title() == "一呼百应 · 态势看板"
        await page.close()
        watch.assert_clean(base)
