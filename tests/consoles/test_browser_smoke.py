"""The consoles in headless Chromium against a scripted dispatcher API (no database, no broker).

One browser walks every page: sign in, raise from the desk, the list, an incident going live
over the event stream, stats, English; no console errors and no request beyond 127.0.0.1.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from baiying_shared.auth import Role, mint_token
from baiying_shared.settings import CommonSettings
from tests.consoles.browser import Watch, chromium, shoot
from tests.consoles.fake_dispatcher import FakeDispatcher, app_with, sample
from tests.support import serving

pytestmark = pytest.mark.browser
TIMEOUT = 5000  # ms; every live change is expected well within a second


def _token(role: Role, districts: list[str]) -> str:
    return str(mint_token(CommonSettings(), sub=f"test-{role}", role=role, districts=districts))


async def _sign_in(page: Page, base: str, path: str, token: str) -> None:
    await page.goto(base + path)
    await page.fill("#token", token)
    await page.click("#signin")
    await page.wait_for_selector("#live[data-state=live]", timeout=TIMEOUT)


async def _raise_from_desk(page: Page, base: str, watch: Watch) -> None:
    await _sign_in(page, base, "/desk", _token("duty_desk", ["360702"]))
    seat = await page.locator('path.seat[data-code="360702"]').bounding_box()
    assert seat
    await page.mouse.click(seat["x"] + seat["width"] / 2, seat["y"] + seat["height"] / 2 + 2)
    assert await page.input_value("select[name=district]") == "360702"
    watch.allow(422, "/v1/incidents")
    await page.click("#raise-submit")  # no title, no address: the API's 422, beside each field
    await page.wait_for_selector(".field-error[data-for=title]:has-text('此项必填')",
                                 timeout=TIMEOUT)
    assert await page.inner_text(".field-error[data-for=address]") == "此项必填"
    assert await page.inner_text("#raise-error") == "请修正标红的项目后再发起"  # said once
    await page.fill("input[name=title]", "老旧小区疑似入室盗窃")
    await page.fill("input[name=address]", "章贡区红旗大道 18 号 3 栋")
    await page.click("#raise-submit")
    await page.wait_for_selector("#followed .progress", timeout=TIMEOUT)
    await shoot(page, "desk-zh")


async def test_every_console_page_in_chromium() -> None:
    fake = FakeDispatcher()
    ids = sample(fake)
    async with serving(app_with(fake)) as base, chromium() as browser:
        watch = Watch()
        page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
        await page.goto(base + "/dashboard")
        await page.wait_for_selector("#signin")
        await shoot(page, "signin")
        await _raise_from_desk(page, base, watch)

        await page.evaluate("localStorage.removeItem('baiying.token')")
        await _sign_in(page, base, "/dashboard", _token("supervisor", ["360702"]))
        await page.wait_for_selector("#incidents tbody tr")
        assert "南康家具城纠纷" not in await page.inner_text("#main")  # another district's
        await page.click("text=全部")
        await shoot(page, "dashboard-zh")

        await page.goto(f"{base}/dashboard/incidents/{ids['unmet']}")
        await page.wait_for_selector(".flag-unmet")
        page.once("dialog", lambda dialog: dialog.accept())  # "cancel this incident?"
        await page.click("#act-cancel")
        await page.wait_for_selector(".pill-cancelled", timeout=TIMEOUT)
        fresh = next(i for i, inc in fake.incidents.items() if inc["title"].startswith("老旧小区"))
        await page.goto(f"{base}/dashboard/incidents/{fresh}")
        await page.wait_for_selector("#live[data-state=live]", timeout=TIMEOUT)
        await page.wait_for_selector(".marker")
        for rank in (1, 2, 3):  # replies arrive over the stream: no reload
            fake.answer(fresh, rank, "accepted")
        await page.wait_for_selector(".pill-staffed", timeout=TIMEOUT)
        assert await page.inner_text(".progress-text") == "3 / 3"
        await shoot(page, "incident-zh")

        await page.goto(f"{base}/dashboard/stats")
        await page.wait_for_selector("#chart-rate-team_type rect.chart-bar")
        # The one coverage figure: 3/3 + 1/4 + the fresh 3/3 (cancelled ones count as raised).
        assert await page.inner_text("#stats-filled b") == "7 / 10"
        await shoot(page, "stats-zh")

        await page.click("#lang")
        await page.wait_for_selector("h1:has-text('Statistics')")
        await shoot(page, "stats-en")
        await page.goto(f"{base}/dashboard/incidents/{ids['staffed']}")
        await page.wait_for_selector(".pill-staffed:has-text('Staffed')")
        await shoot(page, "incident-en")
        await page.goto(f"{base}/desk")
        await page.wait_for_selector("#role-note:has-text('supervisor')")  # no raise form for them
        assert await page.locator("#raise").count() == 0
        assert await page.title() == "Baiying · Duty desk"
        await shoot(page, "desk-supervisor-en")
        await page.close()
        watch.assert_clean(base)
