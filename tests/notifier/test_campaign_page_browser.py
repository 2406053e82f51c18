"""The public case page on a phone-sized screen (Debian chromium): readable, no errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from baiying_notifier.config import NotifierSettings
from tests.consoles.browser import Watch, chromium, shoot
from tests.notifier.harness import system
from tests.notifier.test_campaign_kit import publish, token_in, volunteer_message

pytestmark = pytest.mark.browser
Factory = Callable[..., NotifierSettings]


async def test_the_case_page_on_a_phone(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s, chromium() as browser:
        run, campaign = uuid.uuid4(), uuid.uuid4()
        zh, en = "+8613800030001", "+8613800030002"
        await publish(
            s,
            volunteer_message(run_id=run, campaign_id=campaign, phone=zh),
            volunteer_message(run_id=run, campaign_id=campaign, phone=en, language="en",
                              title="Fake parcel texts",
                              advice="Never click a link in a text to pay customs duty."),
        )  # fmt: skip
        await s.wait_received([zh, en])
        for phone, name, heading in ((zh, "campaign_page_zh", "冒充客服退款诈骗"),
                                     (en, "campaign_page_en", "Fake parcel texts")):  # fmt: skip
            page = await browser.new_page(viewport={"width": 390, "height": 700})
            watch = Watch()
            watch.attach(page)
            await page.goto(f"{s.notifier_url}/c/{token_in(s.received(phone)[0])}")
            assert (await page.locator("h1").inner_text()) == heading
            await shoot(page, name)
            watch.assert_clean(s.notifier_url)
            await page.close()
        page = await browser.new_page(viewport={"width": 390, "height": 700})
        watch = Watch()
        watch.attach(page)
        watch.allow(404, "/c/nothing-here")
        await page.goto(f"{s.notifier_url}/c/nothing-here")
        assert "页面不存在" in await page.locator("h1").first.inner_text()
        await shoot(page, "campaign_page_404")
        watch.assert_clean(s.notifier_url)
