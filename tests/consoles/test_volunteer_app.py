"""The volunteer app in Chromium at 390 px, on a real notifier and SMS sandbox.

A volunteer whose channel list is SMS only, signed in to the app: the alert appears live with
no reload, the address appears live after acceptance, and the card follows what they answered
by SMS (arrived) and the stand-down. zh and en; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from baiying_notifier.config import NotifierSettings
from baiying_shared.auth import mint_token
from baiying_shared.events.callouts import CalloutConfirmed, CalloutStoodDown
from tests.conftest import Infra, settings_for
from tests.consoles.browser import Watch, chromium, shoot
from tests.notifier.harness import System, issued, system

pytestmark = pytest.mark.browser
LIVE_MS = 15_000  # the app re-reads every 2 s; a loaded 2-core box may add a few seconds
PHONE = "+8613700000390"


@pytest.fixture
def app_settings(infra: Infra, database_url: str, unique: str) -> Callable[..., NotifierSettings]:
    def make(**extra: Any) -> NotifierSettings:
        return settings_for(NotifierSettings, infra=infra,  # type: ignore[no-any-return]
                            database_url=database_url, prefix=f"t{unique}.",
                            **{"sender_mps": 200.0, "retry_base_s": 0.05, **extra})
    return make


async def _sms_reply(s: System, body: str) -> None:
    async with httpx.AsyncClient(base_url=s.sandbox_url) as http:
        r = await http.post(f"/v1/phones/{PHONE}/reply", json={"body": body})
        r.raise_for_status()


def _confirmed(alert: Any, vid: uuid.UUID) -> CalloutConfirmed:
    return CalloutConfirmed(
        callout_id=alert.callout_id, incident_id=alert.incident_id, volunteer_id=vid,
        phone=alert.phone, channels=alert.channels, title=alert.title,
        address="章贡区文清路88号", lat=25.85, lon=114.93, contact="王警官 0797-1234567")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_sms_only_volunteer_sees_it_all_live_in_the_app(
    app_settings: Callable[..., NotifierSettings], lang: str,
) -> None:
    async with system(app_settings) as s, chromium() as browser:
        vid = uuid.uuid4()
        token = mint_token(s.settings, sub="vol-390", role="volunteer", volunteer_id=vid)
        watch = Watch()
        page = watch.attach(await browser.new_page(viewport={"width": 390, "height": 844}))
        await page.goto(f"{s.notifier_url}/app")
        await page.evaluate("l => localStorage.setItem('by_lang', l)", lang)
        await page.goto(f"{s.notifier_url}/app?token={token}")
        await page.wait_for_selector("#status[data-state=online]", timeout=LIVE_MS)
        title = "一呼百应 · 志愿者" if lang == "zh" else "Baiying · Volunteer"
        assert await page.title() == title

        alert = issued(phone=PHONE, volunteer_id=vid, channels=("sms",), language=lang)
        await s.dispatcher.publish(alert)
        card = f".card[data-callout='{alert.callout_id}']"
        await page.wait_for_selector(f"{card} button.accept", timeout=LIVE_MS)  # no reload
        meta = await page.inner_text(f"{card} .meta")
        assert ("章贡区南门广场附近" in meta) if lang == "zh" else ("near 章贡区南门广场" in meta)
        await page.click(f"{card} button.accept")
        await page.wait_for_selector(f"{card} .note", timeout=LIVE_MS)
        assert await page.locator(f"{card} .addr").count() == 0  # none before the desk confirms

        await s.dispatcher.publish(_confirmed(alert, vid))
        await page.wait_for_selector(f"{card} .addr:has-text('章贡区文清路88号')", timeout=LIVE_MS)
        await page.wait_for_selector(f"{card} button.arrived")
        await shoot(page, f"app-390-confirmed-{lang}")

        await _sms_reply(s, "3")  # "arrived", by SMS: the app stops offering it
        await page.wait_for_selector(f"{card} button.arrived", state="detached", timeout=LIVE_MS)
        done = "已报到达" if lang == "zh" else "Arrival reported"
        assert done in await page.inner_text(card)

        await s.dispatcher.publish(CalloutStoodDown(
            callout_id=alert.callout_id, incident_id=alert.incident_id, volunteer_id=vid,
            phone=alert.phone, channels=alert.channels, reason="closed", title=alert.title))
        await page.wait_for_selector(f"{card}.stood_down", timeout=LIVE_MS)
        assert await page.locator(f"{card} button").count() == 0
        await shoot(page, f"app-390-stood-down-{lang}")
        wide = await page.evaluate("document.scrollingElement.scrollWidth")
        assert wide <= 390
        await page.close()
        watch.assert_clean(s.notifier_url, s.notifier_url.replace("http", "ws"))
