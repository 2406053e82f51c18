"""Staff sign-in in Chromium against the real Keycloak login page (deploy/local/keycloak.sh).

The real dispatcher (database, broker) accepts only the provider's tokens here (BAIYING_IDP=oidc,
leeway 0) and serves the consoles, which sign in with the code flow + PKCE: a desk officer of
章贡区 signs in, comes back after a reload without a prompt, raises an incident and signs out (the
provider then asks for the password again, and the dispatcher refuses the old token); a
supervisor of 南康区 sees no 章贡区 incident; a short-lived token is refreshed silently.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from playwright.async_api import Browser, Page, Response

from baiying_dispatcher.app import create_app
from tests.auth.keycloak import PASSWORD, Keycloak, start_keycloak
from tests.conftest import Infra
from tests.consoles.browser import Watch, chromium, shoot
from tests.dispatcher.conftest import dispatcher_settings
from tests.support import eventually, free_port, serving

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # a login round trip through Keycloak on a shared 2-core box
HOME, OTHER = "360702", "360703"


@pytest.fixture(scope="module")
def keycloak() -> Keycloak:
    return start_keycloak()


@dataclass
class Tokens:
    """What the provider's token endpoint handed the page (the page itself keeps them in memory)."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)  # grant_type of each token request

    async def on_response(self, response: Response) -> None:
        if response.url.endswith("/protocol/openid-connect/token") and response.ok:
            form = parse_qs(response.request.post_data or "")
            self.grants.append(form.get("grant_type", [""])[0])
            self.seen.append(await response.json())

    @property
    def access(self) -> list[str]:
        return [str(t["access_token"]) for t in self.seen]


@asynccontextmanager
async def consoles_client(kc: Keycloak, origin: str, lifespan_s: int | None) -> AsyncIterator[str]:
    """The realm's consoles client as a bureau registers it: this exact origin and its pages.

    A copy of `baiying-consoles` (same mappers, PKCE S256) whose redirect, sign-out return and
    web origin are the test server's own (Keycloak takes no wildcard port for CORS), and whose
    access tokens live `lifespan_s` if given. Removed afterwards.
    """
    found = (await kc.admin("GET", "/clients", params={"clientId": "baiying-consoles"})).json()
    rep = {k: v for k, v in found[0].items() if k not in ("id", "secret")}
    rep["clientId"] = f"baiying-consoles-{uuid.uuid4().hex[:8]}"
    attributes = {**rep.get("attributes", {}), "post.logout.redirect.uris": f"{origin}/*"}
    if lifespan_s is not None:
        attributes["access.token.lifespan"] = str(lifespan_s)
    rep.update(attributes=attributes, redirectUris=[f"{origin}/*"], webOrigins=[origin])
    rep["protocolMappers"] = [{k: v for k, v in m.items() if k != "id"}
                              for m in rep.get("protocolMappers", [])]
    created = await kc.admin("POST", "/clients", json=rep)
    client_uuid = created.headers["Location"].rsplit("/", 1)[-1]
    try:
        yield str(rep["clientId"])
    finally:
        await kc.admin("DELETE", f"/clients/{client_uuid}")


@asynccontextmanager
async def consoles(infra: Infra, database_url: str, kc: Keycloak,
                   lifespan_s: int | None = None) -> AsyncIterator[str]:
    """The real dispatcher (and its consoles) taking only tokens from this Keycloak's realm."""
    port = free_port()
    async with consoles_client(kc, f"http://127.0.0.1:{port}", lifespan_s) as client_id:
        settings = dispatcher_settings(infra, database_url, idp="oidc", oidc_issuer=kc.issuer,
                                       oidc_client_id=client_id, oidc_leeway_s=0)
        async with serving(create_app(settings), port=port) as url:
            yield url


async def _open(browser: Browser, watch: Watch, tokens: Tokens, url: str) -> Page:
    page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
    page.on("response", tokens.on_response)
    await page.goto(url)
    return page


async def _log_in(page: Page, username: str, *, then: str = "#live[data-state=live]") -> None:
    """Keycloak's own login page: the consoles sent us there, and it sends us back."""
    await page.wait_for_selector("#kc-login", timeout=WAIT_MS)
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#kc-login")
    await page.wait_for_selector(then, timeout=WAIT_MS)


@asynccontextmanager
async def _short_lived(infra: Infra, database_url: str, kc: Keycloak
                       ) -> AsyncIterator[tuple[str, Page, Watch, Tokens]]:
    """The dashboard in Chromium, signed in at the provider as 章贡区's supervisor with access
    tokens that live 12 s: the consoles' base URL, the page, its watch and its tokens."""
    async with consoles(infra, database_url, kc, lifespan_s=12) as base, chromium() as browser:
        watch, tokens = Watch(), Tokens()
        board = await _open(browser, watch, tokens, f"{base}/dashboard")
        await _log_in(board, "sup.zhanggong")
        yield base, board, watch, tokens


async def _status(base: str, path: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.get(path, headers={"Authorization": f"Bearer {token}"})
        return r.status_code


async def _storage(page: Page) -> str:
    """Everything scripts could read back: both storages and the cookies of the page."""
    return str(await page.evaluate("JSON.stringify([Object.entries(localStorage),"
                                   " Object.entries(sessionStorage), document.cookie])"))


async def _raise(desk: Page, title: str) -> None:
    await desk.fill("input[name=lat]", "25.8290")
    await desk.fill("input[name=lon]", "114.9330")
    assert await desk.input_value("select[name=district]") == HOME
    await desk.fill("input[name=address]", "章贡区文清路 66 号")
    await desk.fill("input[name=title]", title)
    await desk.fill("input[name=need_total]", "1")
    await desk.click("#raise-submit")
    await desk.locator("#followed a.link").wait_for(timeout=WAIT_MS)


async def test_desk_officer_signs_in_raises_and_signs_out_at_the_provider(
        infra: Infra, database_url: str, keycloak: Keycloak) -> None:
    async with consoles(infra, database_url, keycloak) as base, chromium() as browser:
        watch, tokens = Watch(), Tokens()
        desk = await _open(browser, watch, tokens, f"{base}/desk")
        await desk.wait_for_url(keycloak.issuer + "/**", timeout=WAIT_MS)  # no token to paste
        await _log_in(desk, "desk.zhanggong")
        who = await desk.inner_text("#topbar .who")
        assert "章贡区值班台" in who and "值班员" in who and "章贡区" in who, who
        assert await desk.locator("#token").count() == 0
        assert tokens.access and tokens.access[0] not in await _storage(desk)
        assert "#" not in desk.url and "code=" not in desk.url  # the answer is not left in the bar
        await shoot(desk, "keycloak-desk-signed-in")

        await desk.reload()  # memory is gone; the provider's SSO session answers without a prompt
        await desk.wait_for_selector("#live[data-state=live]", timeout=WAIT_MS)
        assert len(tokens.access) == 2
        streams = [u for u in watch.requests if "/v1/stream?" in u]
        assert streams and all("ticket=" in u for u in streams), streams
        assert not [u for u in watch.requests if "access_token" in u or tokens.access[-1] in u]
        title = f"统一认证 持械滋事 {uuid.uuid4().hex[:6]}"
        await _raise(desk, title)
        await shoot(desk, "keycloak-desk-raised")

        last = tokens.access[-1]
        assert await _status(base, "/v1/incidents", last) == 200
        await desk.click("#signout")
        await desk.wait_for_selector("#signin-provider", timeout=WAIT_MS)
        assert await desk.inner_text("#signin-note") == "你已安全退出。再次进入需要重新输入密码。"
        await shoot(desk, "keycloak-desk-signed-out")
        await eventually(lambda: _refused(base, last), timeout=10, what="old token refused")
        await desk.click("#signin-provider")
        await desk.wait_for_selector("#password", timeout=WAIT_MS)  # asked for the password again
        await shoot(desk, "keycloak-login-again")
        watch.assert_clean(base, keycloak.base_url)


async def _refused(base: str, token: str) -> bool:
    return await _status(base, "/v1/incidents", token) == 401


async def _raise_by_api(base: str, kc: Keycloak, title: str) -> str:
    """A 章贡区 incident raised by that district's desk officer (Keycloak token), its id."""
    desk_token = await kc.token("desk.zhanggong")
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/v1/incidents", headers={
            "Authorization": f"Bearer {desk_token}", "Idempotency-Key": uuid.uuid4().hex},
            json={"title": title, "category": "robbery", "address": "章贡区文清路 66 号",
                  "location": {"lat": 25.829, "lon": 114.933}, "district": HOME,
                  "need": {"total": 1}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_supervisor_of_nankang_sees_no_zhanggong_incident(
        infra: Infra, database_url: str, keycloak: Keycloak) -> None:
    title = f"章贡区 不外泄 {uuid.uuid4().hex[:6]}"
    async with consoles(infra, database_url, keycloak) as base, chromium() as browser:
        incident_id = await _raise_by_api(base, keycloak, title)
        watch, tokens = Watch(), Tokens()
        board = await _open(browser, watch, tokens, f"{base}/dashboard")
        await _log_in(board, "sup.nankang")
        who = await board.inner_text("#topbar .who")
        assert "南康区督导" in who and "督导" in who and "南康区" in who, who
        await board.click("text=全部")
        assert title not in await board.inner_text("#main")
        await shoot(board, "keycloak-nankang-dashboard")
        for path in ("", "/callouts", "/audit"):
            watch.allow(404, f"/v1/incidents/{incident_id}{path}")
        await board.goto(f"{base}/dashboard/incidents/{incident_id}")
        await board.wait_for_selector("#incident-error", timeout=WAIT_MS)
        assert title not in await board.inner_text("#main")
        await shoot(board, "keycloak-nankang-other-district")
        watch.assert_clean(base, keycloak.base_url)


async def test_a_short_lived_token_is_refreshed_silently(
        infra: Infra, database_url: str, keycloak: Keycloak) -> None:
    async with _short_lived(infra, database_url, keycloak) as (base, board, watch, tokens):
        first = tokens.access[0]
        # The first token really expires (the dispatcher refuses it) while the page carries on.
        await eventually(lambda: _refused(base, first), timeout=60, what="first token expired")
        assert "refresh_token" in tokens.grants, tokens.grants
        calls: list[str] = []
        board.on("request", lambda r: calls.append(r.headers.get("authorization", ""))
                 if "/v1/incidents" in r.url else None)
        # A new incident of the district: the live page fetches its list with the token it holds.
        title = f"刷新之后 {uuid.uuid4().hex[:6]}"
        async with board.expect_response(lambda r: "/v1/incidents" in r.url,
                                         timeout=WAIT_MS) as answer:
            await _raise_by_api(base, keycloak, title)
        assert (await answer.value).status == 200
        await board.wait_for_selector(f"#incidents tr:has-text('{title}')", timeout=WAIT_MS)
        latest = calls[-1].removeprefix("Bearer ")
        assert latest != first and latest in tokens.access, "the request carried no fresh token"
        # Never bounced through the provider: one code exchange, then refreshes only.
        assert tokens.grants.count("authorization_code") == 1, tokens.grants
        await shoot(board, "keycloak-refreshed")
        watch.assert_clean(base, keycloak.base_url)


async def test_an_ended_provider_session_sends_the_user_back_to_sign_in(
        infra: Infra, database_url: str, keycloak: Keycloak) -> None:
    async with _short_lived(infra, database_url, keycloak) as (base, board, watch, tokens):
        sid = jwt.decode(tokens.access[0], options={"verify_signature": False})["sid"]
        await keycloak.admin("DELETE", f"/sessions/{sid}")  # an administrator ends it there
        watch.allow(400, "/protocol/openid-connect/token")  # the refused refresh
        # The next refresh is refused, so the page goes back to the provider, which asks again.
        await board.wait_for_selector("#kc-login", timeout=30_000)
        assert board.url.startswith(keycloak.issuer)
        assert tokens.grants == ["authorization_code"], tokens.grants
        await shoot(board, "keycloak-session-ended")
        watch.assert_clean(base, keycloak.base_url)


async def test_a_user_without_a_baiying_role_is_told_why(
        infra: Infra, database_url: str, keycloak: Keycloak) -> None:
    async with consoles(infra, database_url, keycloak) as base, chromium() as browser:
        watch, tokens = Watch(), Tokens()
        watch.allow(403, "/v1/auth/me")
        desk = await _open(browser, watch, tokens, f"{base}/desk")
        await _log_in(desk, "norole.zhanggong", then="#signin-switch")
        note = await desk.inner_text("#signin-note")
        assert note.startswith("登录未完成：") and "no Baiying role" in note, note
        assert await desk.locator("#raise-submit").count() == 0
        await shoot(desk, "keycloak-no-role")
        await desk.click("#signin-switch")  # signs out at the provider, to sign in as another
        await desk.wait_for_selector("#signin-provider", timeout=WAIT_MS)
        watch.assert_clean(base, keycloak.base_url)
