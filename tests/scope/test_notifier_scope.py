"""Issue 11 (6): every notifier route — the volunteer app (HTTP and WebSocket), sign-in, devices,
webhooks — against bad tokens, the wrong role, and another volunteer.

On the real notifier, broker, database and sandbox (tests/notifier/harness.py): volunteer A has
an app call-out and a device signed in by SMS code; volunteer B holds a genuine token of their
own and must neither read nor answer nor revoke anything of A's, by HTTP or over the socket.
Routes come from the app (tests/scope/support.py); a route without a rule fails
`test_every_route_has_a_scope_rule` (tests/scope/test_rules.py).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from baiying_notifier.config import NotifierSettings
from baiying_shared.auth import Role, mint_token
from tests.auth.conftest import keycloak  # noqa: F401  (fixture)
from tests.auth.keycloak import Keycloak
from tests.auth.test_signin_sms import _code
from tests.conftest import Infra, settings_for
from tests.notifier.harness import System, issued, system
from tests.scope.support import COMMON_PUBLIC, HOME, call, leaks, refused_tokens, route_id

Need = Literal["public", "twilio", "volunteer", "admin"]
RULES: dict[tuple[str, str], Need] = {
    **dict.fromkeys(COMMON_PUBLIC, "public"),
    # Pages for people (/app, a campaign's /c/{token}) are outside the OpenAPI; the case page's
    # token rules are tested in tests/notifier/test_campaign_links.py.
    ("POST", "/v1/app/signin/code"): "public",
    ("POST", "/v1/app/signin/verify"): "public",
    ("POST", "/v1/webhooks/twilio/status"): "twilio",
    ("POST", "/v1/webhooks/twilio/inbound"): "twilio",
    ("GET", "/v1/app/alerts"): "volunteer",
    ("POST", "/v1/app/replies"): "volunteer",
    ("GET", "/v1/app/devices"): "volunteer",
    ("DELETE", "/v1/app/devices/{device_id}"): "volunteer",
    ("DELETE", "/v1/app/admin/devices/{device_id}"): "admin",
    ("WS", "/v1/app/ws"): "volunteer",
}
GUARDED = sorted(k for k, v in RULES.items() if v in ("volunteer", "admin"))


@dataclass
class World:
    s: System
    kc: Keycloak
    callout_id: str
    title: str
    a_token: str  # volunteer A's device session, from the SMS code
    a_device: str

    def token(self, role: Role, **kw: Any) -> str:
        return str(mint_token(self.s.settings, sub=f"{role}-scope", role=role,
                              districts=[HOME] if role != "volunteer" else [], **kw))

    def url(self, path: str) -> str:
        return path.format(device_id=self.a_device)

    def body(self, method: str, path: str) -> Any:
        return {"callout_id": self.callout_id, "action": "accept"} if method == "POST" else None

    async def a_alerts(self) -> list[dict[str, Any]]:
        r = await call(self.s.notifier_url, "GET", "/v1/app/alerts", self.a_token)
        assert r.status_code == 200, r.text
        return list(r.json())


@pytest.fixture(scope="module")
async def world(infra: Infra, database_url: str, keycloak: Keycloak) -> AsyncIterator[World]:  # noqa: F811
    def settings(**extra: Any) -> NotifierSettings:
        made: NotifierSettings = settings_for(NotifierSettings, infra=infra, prefix="scope-n.",
                                              database_url=database_url, sender_mps=200.0, **extra)
        return made

    # Staff tokens from the real Keycloak are accepted here too (and must open nothing).
    async with system(settings, idp="oidc", oidc_issuer=keycloak.issuer) as s:
        phone = "+8613700011122"
        alert = issued(phone=phone, channels=("sms", "app"), title="章贡区 只给甲的召集")
        await s.dispatcher.publish(alert)
        await s.wait_received([phone])
        async with httpx.AsyncClient(base_url=s.notifier_url) as http:
            await http.post("/v1/app/signin/code", json={"phone": phone})
            code = await _code(s, phone)
            signed = (await http.post("/v1/app/signin/verify",
                                      json={"phone": phone, "code": code})).json()
        w = World(s, keycloak, str(alert.callout_id), alert.title, signed["access_token"],
                  signed["device_id"])
        assert [a["callout_id"] for a in await w.a_alerts()] == [w.callout_id]
        yield w


async def _socket_refused(world: World, token: str | None) -> bool:
    """The app socket gives this token nothing: refused at the handshake or closed at once."""
    url = world.s.notifier_url.replace("http", "ws") + "/v1/app/ws"
    url += f"?access_token={token}" if token else ""
    try:
        async with connect(url, open_timeout=10) as ws:
            await ws.recv()
    except (InvalidStatus, ConnectionClosed):
        return True
    return False


async def _http(world: World, route: tuple[str, str], token: str | None) -> httpx.Response:
    method, path = route
    return await call(world.s.notifier_url, method, world.url(path), token,
                      body=world.body(method, path))


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_bad_tokens_are_refused(world: World, route: tuple[str, str]) -> None:
    tokens = await refused_tokens(world.s.settings, world.kc)
    if route[0] == "WS":  # the socket does open for the genuine holder
        assert not await _socket_refused(world, world.a_token)
    for kind, token in tokens.items():
        if route[0] == "WS":
            assert await _socket_refused(world, token), kind
        else:
            r = await _http(world, route, token)
            assert r.status_code == 401, f"{kind}: {r.status_code} {r.text}"


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_the_wrong_role_is_refused(world: World, route: tuple[str, str]) -> None:
    wrong: list[Role] = (["volunteer", "supervisor", "duty_desk"] if RULES[route] == "admin"
                         else ["supervisor", "duty_desk"])
    staff = {"keycloak supervisor": await world.kc.token("sup.zhanggong"),
             "keycloak desk": await world.kc.token("desk.zhanggong")}
    for role, token in {**{r: world.token(r) for r in wrong}, **staff}.items():
        if route[0] == "WS":
            assert await _socket_refused(world, token), role
        else:
            r = await _http(world, route, token)
            assert r.status_code == 403, f"{role}: {r.status_code} {r.text}"


@pytest.mark.parametrize("route", ["twilio/status", "twilio/inbound"])
async def test_unsigned_webhooks_are_refused(world: World, route: str) -> None:
    async with httpx.AsyncClient(base_url=world.s.notifier_url) as http:
        r = await http.post(f"/v1/webhooks/{route}", data={"From": "+8613700011122",
                                                           "Body": "1", "MessageSid": "SMx"})
    assert r.status_code == 403, r.text


async def test_another_volunteer_cannot_read_answer_or_revoke_by_http(world: World) -> None:
    other = world.token("volunteer", volunteer_id=uuid.uuid4())
    base, secrets = world.s.notifier_url, (world.callout_id, world.title, world.a_device)
    alerts = await call(base, "GET", "/v1/app/alerts", other)
    assert alerts.status_code == 200 and alerts.json() == [], alerts.text
    devices = await call(base, "GET", "/v1/app/devices", other)
    assert devices.status_code == 200 and not leaks(devices.text, *secrets), devices.text
    answer = await call(base, "POST", "/v1/app/replies", other,
                        body={"callout_id": world.callout_id, "action": "accept"})
    assert answer.status_code in (403, 404, 409), answer.text
    revoke = await call(base, "DELETE", f"/v1/app/devices/{world.a_device}", other)
    assert revoke.status_code == 404, revoke.text
    [mine] = await world.a_alerts()  # A's device still signed in, the call-out still unanswered
    assert mine.get("answer") is None and mine["state"] != "accepted", mine


async def test_another_volunteer_gets_nothing_over_the_socket(world: World) -> None:
    other = world.token("volunteer", volunteer_id=uuid.uuid4())
    url = world.s.notifier_url.replace("http", "ws") + f"/v1/app/ws?access_token={other}"
    async with connect(url, open_timeout=10) as ws:
        first = json.loads(await ws.recv())
        assert first == {"type": "snapshot", "alerts": []}, first
        await ws.send(json.dumps({"type": "reply", "callout_id": world.callout_id,
                                  "action": "accept"}))
        reply = await asyncio.wait_for(_next_reply(ws), 10)  # snapshots may come first
        assert reply["type"] == "reply_rejected", reply
    [mine] = await world.a_alerts()
    assert mine.get("answer") is None and mine["state"] != "accepted", mine


async def _next_reply(ws: Any) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(await ws.recv())
        if str(msg.get("type", "")).startswith("reply"):
            return msg
