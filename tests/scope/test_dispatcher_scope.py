"""Issue 11 (6): every dispatcher route against bad tokens, the wrong role and the wrong district.

The dispatcher here takes both kinds of token: development ones and the real Keycloak's
(BAIYING_IDP=oidc), so "the wrong district" is tried with a minted token and with a genuine
provider token of 南康区. The world: one 章贡区 incident with a call-out, one closed 章贡区
incident turned into a case, a 章贡区 campaign, a 章贡区 standard address. Routes come from
the app (tests/scope/support.py); a route without a rule in RULES fails
`test_every_route_has_a_scope_rule` (tests/scope/test_rules.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest

from baiying_shared.auth import Role, mint_token
from tests.auth.conftest import keycloak  # noqa: F401  (fixture)
from tests.auth.keycloak import Keycloak
from tests.conftest import Infra
from tests.dispatcher.conftest import System, dispatcher_settings, running_system
from tests.dispatcher.support import fresh_area, volunteer
from tests.dispatcher.test_campaign_schedule import around, campaign_body
from tests.dispatcher.test_mobilisation import incident_body, issued_n
from tests.dispatcher.test_scoping import listening
from tests.scope.support import AWAY, COMMON_PUBLIC, HOME, call, leaks, refused_tokens, route_id
from tests.support import eventually

Need = Literal["public", "any", "staff", "duty_desk", "admin"]
# named: one 章贡区 thing by id (403/404, nothing of it in the answer); filter: a list or
# figures scoped to the caller; raise: a body naming the district; stream: see the SSE test.
Scope = Literal["named", "filter", "raise", "stream", None]
INC = "/v1/incidents/{incident_id}"
RULES: dict[tuple[str, str], tuple[Need, Scope]] = {
    **dict.fromkeys(COMMON_PUBLIC, ("public", None)),
    ("GET", "/v1/reference"): ("public", None),
    ("POST", "/v1/incidents"): ("duty_desk", "raise"),
    ("GET", "/v1/incidents"): ("staff", "filter"),
    ("GET", INC): ("staff", "named"),
    ("GET", INC + "/callouts"): ("staff", "named"),
    ("GET", INC + "/audit"): ("staff", "named"),
    ("POST", INC + "/cancel"): ("staff", "named"),
    ("POST", INC + "/close"): ("staff", "named"),
    ("POST", INC + "/help"): ("admin", None),
    ("POST", INC + "/callouts/{callout_id}/reply"): ("staff", "named"),
    ("GET", INC + "/next-steps"): ("duty_desk", "named"),
    ("POST", INC + "/next-steps"): ("duty_desk", "named"),
    ("GET", "/v1/stats"): ("staff", "filter"),
    ("GET", "/v1/stream"): ("staff", "stream"),
    ("POST", "/v1/stream/tickets"): ("staff", None),  # the ticket carries the caller's scope
    ("POST", "/v1/gazetteer/import"): ("duty_desk", None),
    ("GET", "/v1/gazetteer/search"): ("staff", "filter"),
    ("POST", "/v1/cases"): ("staff", "named"),
    ("GET", "/v1/cases"): ("staff", "filter"),
    ("GET", "/v1/cases/{case_id}"): ("staff", "named"),
    ("POST", "/v1/campaigns"): ("staff", "raise"),
    ("GET", "/v1/campaigns"): ("staff", "filter"),
    ("POST", "/v1/campaigns:dry-run"): ("staff", "raise"),
    ("GET", "/v1/campaigns/{campaign_id}"): ("staff", "named"),
    ("POST", "/v1/campaigns/{campaign_id}:cancel"): ("staff", "named"),
    ("GET", "/v1/campaigns/{campaign_id}/reach"): ("staff", "named"),
    ("GET", "/v1/hotspots"): ("staff", "filter"),
    ("GET", "/v1/reports/monthly"): ("staff", "filter"),
    ("GET", "/v1/auth/me"): ("any", None),
    ("POST", "/v1/auth/sign-out"): ("any", None),
    ("POST", "/v1/auth/revocations"): ("admin", None),
}
GUARDED = sorted(k for k, v in RULES.items() if v[0] != "public")
WITH_ROLE = sorted(k for k, v in RULES.items() if v[0] not in ("public", "any"))
SCOPED = sorted(k for k, v in RULES.items() if v[1] in ("named", "filter", "raise"))
TITLE = f"章贡区 范围测试 {uuid.uuid4().hex[:6]}"
ADDRESS = "章贡区文清路 88 号 范围测试"


@dataclass
class World:
    system: System
    kc: Keycloak
    incident: dict[str, Any]
    callout_id: uuid.UUID
    case_id: str
    campaign_id: str

    def token(self, role: Role, district: str) -> str:
        return str(mint_token(self.system.settings, sub=f"{role}-{district}", role=role,
                              districts=[district]))

    def url(self, path: str) -> str:
        return path.format(incident_id=self.incident["id"], callout_id=self.callout_id,
                           case_id=self.case_id, campaign_id=self.campaign_id)

    def body(self, method: str, path: str) -> Any:
        """A valid body, so the route reaches its own checks (not a 422)."""
        if method != "POST":
            return None
        area = fresh_area()
        return {
            "/v1/incidents": incident_body(area, title="越界", district=HOME),
            INC + "/help": {"districts": [AWAY], "reason": "scope test"},
            INC + "/callouts/{callout_id}/reply": {"action": "decline"},
            INC + "/next-steps": {"action": "extend", "minutes": 5},
            "/v1/cases": {"incident_id": self.incident["id"], "title_zh": "范围测试案例",
                          "account_zh": "一段经过" * 5, "advice_zh": "一条提示" * 3},
            "/v1/auth/revocations": {"sub": "nobody"},
            "/v1/campaigns": _campaign(),
            "/v1/campaigns:dry-run": _campaign(),
        }.get(path, {"reason": "scope test"})


def _campaign() -> dict[str, Any]:
    """A 章贡区 campaign far in the future (never sent while the tests run)."""
    return campaign_body({**around(fresh_area()), "districts": [HOME]},
                         {"kind": "at", "at": "2030-01-01T09:00:00+08:00"},
                         name=f"{TITLE} 宣传")


def _params(path: str) -> dict[str, str]:
    return {"/v1/reports/monthly": {"month": datetime.now(UTC).strftime("%Y-%m")},
            "/v1/gazetteer/search": {"q": "文清路"}}.get(path, {})


async def _raise(system: System, token: str, **kw: Any) -> dict[str, Any]:
    area = fresh_area()
    await system.add_volunteers([volunteer(area, 100)])
    r = await call(system.url, "POST", "/v1/incidents", token,
                   body=incident_body(area, address=ADDRESS, need={"total": 1}, **kw))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _case(world: System, desk: str) -> str:
    """A closed 章贡区 incident, turned into a case of the library."""
    done = await _raise(world, desk, title=f"{TITLE} 已结")
    r = await call(world.url, "POST", f"/v1/incidents/{done['id']}/close", desk, body={})
    assert r.status_code == 200, r.text
    r = await call(world.url, "POST", "/v1/cases", desk, body={
        "incident_id": done["id"], "title_zh": f"{TITLE} 案例", "account_zh": "一段经过" * 5,
        "advice_zh": "一条提示" * 3})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture(scope="module")
async def world(infra: Infra, database_url: str, keycloak: Keycloak) -> AsyncIterator[World]:  # noqa: F811
    settings = dispatcher_settings(infra, database_url, idp="oidc", oidc_issuer=keycloak.issuer)
    async with running_system(settings) as system:
        desk = str(mint_token(settings, sub="desk-home", role="duty_desk", districts=[HOME]))
        incident = await _raise(system, desk, title=TITLE)
        [issued] = await issued_n(system, incident["id"], 1)
        added = await _import(system.url, desk,
                              f"{ADDRESS},{HOME},范围社区,文清警务室,25.83,114.93")
        assert added.status_code == 200 and added.json()["imported"] == 1, added.text
        made = await call(system.url, "POST", "/v1/campaigns", desk, body=_campaign())
        assert made.status_code == 201, made.text
        yield World(system, keycloak, incident, issued.callout_id, await _case(system, desk),
                    str(made.json()["id"]))


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_bad_tokens_are_401(world: World, route: tuple[str, str]) -> None:
    method, path = route
    for kind, token in (await refused_tokens(world.system.settings, world.kc)).items():
        r = await call(world.system.url, method, world.url(path), token,
                       body=world.body(method, path), params=_params(path))
        assert r.status_code == 401, f"{kind}: {r.status_code} {r.text}"


@pytest.mark.parametrize("route", WITH_ROLE, ids=route_id)
async def test_the_wrong_role_is_403(world: World, route: tuple[str, str]) -> None:
    method, path = route
    need = RULES[route][0]
    wrong: list[Role] = ["volunteer"] + {"staff": [], "duty_desk": ["supervisor"],
                                         "admin": ["supervisor", "duty_desk"]}[need]
    for role in wrong:
        r = await call(world.system.url, method, world.url(path), world.token(role, HOME),
                       body=world.body(method, path), params=_params(path))
        assert r.status_code == 403, f"{role}: {r.status_code} {r.text}"


async def _away_tokens(world: World, need: Need) -> dict[str, str]:
    role: Role = "duty_desk" if need == "duty_desk" else "supervisor"
    user = "desk.nankang" if role == "duty_desk" else "sup.nankang"
    return {"dev": world.token(role, AWAY), "keycloak": await world.kc.token(user)}


@pytest.mark.parametrize("route", SCOPED, ids=route_id)
async def test_the_wrong_district_sees_nothing(world: World, route: tuple[str, str]) -> None:
    method, path = route
    need, scope = RULES[route]
    # What the other side must never read. Ids the caller itself named may come back in a 404
    # ("no incident <id>"), and the code it asked for in a 403: that tells it nothing new.
    secrets = (TITLE, ADDRESS) if scope != "filter" else (
        TITLE, ADDRESS, world.incident["id"], world.case_id, world.campaign_id, HOME)
    for kind, token in (await _away_tokens(world, need)).items():
        r = await call(world.system.url, method, world.url(path), token,
                       body=world.body(method, path), params=_params(path))
        if scope == "filter":
            assert r.status_code == 200, f"{kind}: {r.status_code} {r.text}"
            named = await call(world.system.url, method, world.url(path), token,
                               params={**_params(path), "district": HOME})
            assert named.status_code in (200, 403), f"{kind}: {named.status_code}"
            if named.status_code == 200:
                assert not leaks(named.text, *secrets), f"{kind}, district={HOME}: {named.text}"
        else:
            assert r.status_code in (403, 404), f"{kind}: {r.status_code} {r.text}"
        assert not leaks(r.text, *secrets), f"{kind}: {r.text}"
    await _still_untouched(world)


async def _still_untouched(world: World) -> None:
    """The district's own supervisor still sees the incident live: nothing above changed it."""
    r = await call(world.system.url, "GET", world.url(INC), world.token("supervisor", HOME))
    assert r.status_code == 200 and TITLE in r.text, r.text
    assert r.json()["status"] not in ("cancelled", "closed"), r.json()["status"]


async def test_the_stream_shows_a_supervisor_only_their_district(world: World) -> None:
    system = world.system
    provider = await world.kc.token("sup.nankang")
    async with listening(system, AWAY) as away, listening(system, HOME) as home, \
            listening(system, token=provider) as away_provider:
        desk = world.token("duty_desk", HOME)
        raised = await _raise(system, desk, title=f"{TITLE} 直播")

        async def home_saw() -> bool:
            return any(e.get("incident_id") == raised["id"] for e in home)

        await eventually(home_saw, timeout=20, what="the home supervisor sees the new incident")
        # The away stream is live too: its own district's incident reaches it after ours did.
        own = await _raise(system, world.token("duty_desk", AWAY), district=AWAY,
                           title="南康区 本区警情")

        async def away_saw_own() -> bool:
            return any(e.get("incident_id") == own["id"] for e in away)

        async def provider_saw_own() -> bool:
            return any(e.get("incident_id") == own["id"] for e in away_provider)

        await eventually(away_saw_own, timeout=20, what="the away supervisor sees its own")
        await eventually(provider_saw_own, timeout=20, what="so does the Keycloak-signed one")
    for seen in (away, away_provider):
        assert all(e.get("district") == AWAY for e in seen), "another district's event on SSE"
        assert not leaks(str(seen), raised["id"], TITLE, HOME)


async def test_addresses_stay_in_their_district(world: World) -> None:
    """The desk's standard addresses: another district neither finds nor imports into ours."""
    base, q = world.system.url, {"q": "文清路 范围测试"}
    mine = await call(base, "GET", "/v1/gazetteer/search", world.token("supervisor", HOME),
                      params=q)
    assert ADDRESS in mine.text, mine.text  # there to be found, by the district's own
    for kind, token in (await _away_tokens(world, "duty_desk")).items():
        found = await call(base, "GET", "/v1/gazetteer/search", token, params=q)
        assert found.status_code == 200 and not leaks(found.text, ADDRESS), found.text
        r = await _import(base, token, f"{ADDRESS} 又一处,{HOME},范围社区,文清警务室,25.83,114.93")
        assert r.status_code == 200 and r.json()["imported"] == 0, f"{kind}: {r.text}"


async def _import(base: str, token: str, line: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        return await http.post("/v1/gazetteer/import", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            content=f"address,district,community,police_room,lat,lon\n{line}\n".encode())
