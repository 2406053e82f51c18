"""The roster page (issue 11) in Chromium, against a real registry seeded with the Ganzhou data.

The page is served by the consoles router and reads the registry only through the router's
read-only proxy, with the supervisor's own token: the browser never reaches another origin.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from baiying_consoles.config import MapSettings
from baiying_consoles.registry_proxy import RegistryLink
from baiying_consoles.web import router as consoles_router
from baiying_dispatcher.gazetteer.api import router as gazetteer_router
from baiying_registry.seed import seed_ganzhou
from baiying_shared.privacy import mask_phone
from baiying_shared.web import install_common
from tests.conftest import Infra
from tests.consoles.browser import Watch, chromium, shoot
from tests.registry.conftest import Registry, registry_settings, running_registry
from tests.registry.test_events import _send
from tests.registry.test_reachability import _flag, _opt, _until
from tests.support import free_port, serving

pytestmark = pytest.mark.browser
TIMEOUT = 15_000
HOME = "360702"  # 章贡区
REASON = "核实退订：志愿者称未发送退订短信"
FIVE = {"patrol", "community_security", "security_volunteer", "building_watch",
        "information_officer"}


def consoles_app(registry_url: str) -> FastAPI:
    """The consoles as the dispatcher mounts them, with the /v1/reference the pages name from."""
    app = FastAPI()
    install_common(app, service="consoles-test")
    app.include_router(gazetteer_router)  # only its database-free /v1/reference is reached
    link = RegistryLink(registry_url=registry_url)
    app.include_router(consoles_router(MapSettings(tiles=""), link))
    return app


@pytest.fixture(scope="module")
async def seeded(infra: Infra, database_url: str) -> AsyncIterator[Registry]:
    """The registry on the seed's teams and people, one patrol member opted out, one blocked."""
    settings = registry_settings(infra, database_url)
    await seed_ganzhou(settings, seed=7)
    async with running_registry(settings) as registry:
        yield registry


async def _two_patrol_members(registry: Registry) -> list[dict[str, Any]]:
    async with registry.client() as c:
        r = await c.get("/v1/volunteers", params={"district": HOME, "team_type": "patrol",
                                                  "limit": 2})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def _roster_json(registry: Registry) -> list[dict[str, Any]]:
    async with registry.client("supervisor", HOME) as c:
        return (await c.get("/v1/roster")).json()  # type: ignore[no-any-return]


async def _open(browser: Any, watch: Watch, url: str, token: str) -> Any:
    page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
    await page.goto(url)
    await page.evaluate("t => localStorage.setItem('baiying.token', t)", token)
    await page.goto(url)
    await page.locator("#roster tbody tr[data-team]").first.wait_for(timeout=TIMEOUT)
    return page


async def test_the_supervisor_sees_the_five_teams_their_reach_and_a_masked_drill_down(
    seeded: Registry,
) -> None:
    stopped, blocked = await _two_patrol_members(seeded)
    await _send(seeded, _opt(stopped["phone"], out=True, keyword="STOP"), stopped["phone"])
    await _send(seeded, _flag(blocked["phone"], 21610), blocked["phone"])
    await _until(seeded, stopped["id"], "opted_out")
    await _until(seeded, blocked["id"], "carrier_blocked")
    expected = {r["team_type"]: r for r in await _roster_json(seeded)}
    assert set(expected) == FIVE and expected["patrol"]["opted_out"] == 1

    async with serving(consoles_app(seeded.url)) as base, chromium() as browser:
        watch = Watch()
        watch.allow(422, "phone:reveal")
        page = await _open(browser, watch, f"{base}/roster.html",
                           seeded.headers("supervisor", HOME)["Authorization"][7:])
        rows = page.locator("#roster tbody tr[data-team]")
        assert await rows.count() == 5
        for i in range(5):
            row = rows.nth(i)
            team = await row.get_attribute("data-team")
            assert team in FIVE and await row.get_attribute("data-district") == HOME
            for col in ("teams", "people", "on_duty_now", "reachable_sms", "opted_out",
                        "carrier_blocked"):
                cell = row.locator(f"td[data-col={col}]")
                assert (await cell.inner_text()).strip() == str(expected[team][col]), (team, col)
        people = sum(r["people"] for r in expected.values())
        assert (await page.inner_text("#roster-people-n b")).strip() == str(people)
        await shoot(page, "roster-supervisor")

        await page.click("#roster tr[data-team=patrol] td[data-col=opted_out] button")
        listed = page.locator("#roster-people tbody tr")
        await listed.first.wait_for(timeout=TIMEOUT)
        assert await listed.count() == 1
        assert await listed.first.get_attribute("data-id") == stopped["id"]
        shown = (await listed.first.locator("td.phone .masked").inner_text()).strip()
        assert shown == mask_phone(stopped["phone"])
        assert stopped["phone"] not in await page.content()
        await shoot(page, "roster-drill-opted-out")

        # The whole number only through the audited reveal, and only with a reason.
        phone = listed.first.locator("td.phone")
        await phone.locator("button.reveal-btn").click()
        await phone.locator("form.reveal-form button[type=submit]").click()
        await phone.locator(".field-error", has_text="reason").wait_for(timeout=TIMEOUT)
        await phone.locator("input[name=reason]").fill(REASON)
        await phone.locator("form.reveal-form button[type=submit]").click()
        await phone.locator("b.revealed", has_text=stopped["phone"]).wait_for(timeout=TIMEOUT)
        audit = await seeded.pool.fetch(
            "SELECT actor, role, reason FROM phone_reveals WHERE volunteer_id = $1",
            uuid.UUID(stopped["id"]))
        assert [tuple(r) for r in audit] == [("supervisor-test", "supervisor", REASON)]
        await shoot(page, "roster-revealed")

        await page.click("#roster tr[data-team=patrol] td[data-col=teams]")  # the whole row
        whole = min(500, expected["patrol"]["people"])
        await listed.nth(whole - 1).wait_for(timeout=TIMEOUT)
        assert await listed.count() == whole
        assert stopped["phone"] not in await page.content()
        await page.click("#lang")
        await page.locator("#roster th", has_text="Reachable by SMS").wait_for(timeout=TIMEOUT)
        await shoot(page, "roster-drill-en")
        # On a phone the wide tables scroll inside their cards; the page itself does not.
        await page.set_viewport_size({"width": 390, "height": 844})
        for card in ("#roster-drill", ".card:has(#roster)"):
            box = await page.locator(card).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, card
        await page.click("#roster-drill .page-head button")  # close the 135-person list
        await page.locator("#roster-drill").wait_for(state="detached", timeout=TIMEOUT)
        await shoot(page, "roster-390")
        watch.assert_clean(base)


async def test_the_proxy_forwards_only_the_roster_and_the_registry_judges_the_token(
    seeded: Registry,
) -> None:
    async with serving(consoles_app(seeded.url)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            other = await c.get("/console-api/registry/v1/roster", params={"district": "360703"},
                                headers=seeded.headers("supervisor", HOME))
            anonymous = await c.get("/console-api/registry/v1/roster")
            elsewhere = await c.get("/console-api/registry/v1/volunteers",
                                    headers=seeded.headers())
            written = await c.post("/console-api/registry/v1/roster",
                                   headers=seeded.headers())
            stranger = await c.post(
                f"/console-api/registry/v1/volunteers/{uuid.uuid4()}/phone:reveal",
                json={"reason": "测试：无此人"}, headers=seeded.headers("supervisor", HOME))
            bad_id = await c.post("/console-api/registry/v1/volunteers/teams/phone:reveal",
                                  json={"reason": "测试：路径"}, headers=seeded.headers())
            climbing = await c.post(
                "/console-api/registry/v1/volunteers/..%2F..%2Fv1%2Fteams/phone:reveal",
                json={"reason": "测试：路径"}, headers=seeded.headers())
    assert other.status_code == 403, other.text
    assert anonymous.status_code == 401, anonymous.text
    assert elsewhere.status_code == 404 and "items" not in elsewhere.text
    assert written.status_code == 405, written.text
    assert stranger.status_code == 404 and "no volunteer" in stranger.text
    assert bad_id.status_code == 422 and "volunteer_id" in bad_id.text
    assert climbing.status_code == 404, climbing.text
    async with serving(consoles_app(f"http://127.0.0.1:{free_port()}")) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            down = await c.get("/console-api/registry/v1/roster", headers=seeded.headers())
    assert down.status_code == 503 and "registry unreachable" in down.text
