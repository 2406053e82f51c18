"""Issue 11 (6): every registry route against bad tokens, the wrong role and the wrong district.

The route list comes from the app itself (its OpenAPI paths, built from its routes), so a new
route without an entry in RULES fails `test_every_route_has_a_scope_rule` (test_rules.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from baiying_registry.app import create_app
from baiying_shared.auth import mint_token
from baiying_shared.db.pool import create_pool
from tests.conftest import Infra
from tests.registry.conftest import Registry, registry_settings
from tests.scope.support import COMMON_PUBLIC, HOME, bad_tokens, call, route_id
from tests.support import serving

Need = Literal["public", "staff", "admin", "self"]
# What each route needs: who may call it, and whether it names a district (so a supervisor of
# another district must get 403) — "filter" for lists that scope by the caller's districts.
RULES: dict[tuple[str, str], tuple[Need, Literal["403", "filter", None]]] = {
    **dict.fromkeys(COMMON_PUBLIC, ("public", None)),
    ("POST", "/v1/teams"): ("admin", None),
    ("GET", "/v1/teams"): ("staff", "filter"),
    ("GET", "/v1/teams/{team_id}"): ("staff", "403"),
    ("POST", "/v1/volunteers/import"): ("admin", None),
    ("GET", "/v1/volunteers/{volunteer_id}/reachability"): ("staff", "403"),
    ("POST", "/v1/volunteers/{volunteer_id}/reachability/{channel}/clear"): ("admin", None),
    ("POST", "/v1/volunteers"): ("admin", None),
    ("GET", "/v1/volunteers"): ("staff", "filter"),
    ("GET", "/v1/volunteers/{volunteer_id}"): ("staff", "403"),
    ("PATCH", "/v1/volunteers/{volunteer_id}"): ("admin", None),
    ("DELETE", "/v1/volunteers/{volunteer_id}"): ("admin", None),
    ("PUT", "/v1/volunteers/{volunteer_id}/availability"): ("self", None),
    ("POST", "/v1/volunteers/{volunteer_id}/phone:reveal"): ("staff", "403"),
    ("GET", "/v1/volunteers/{volunteer_id}/phone:reveals"): ("staff", "403"),
    ("GET", "/v1/roster"): ("staff", "filter"),
    ("GET", "/v1/roster/people"): ("staff", "filter"),
}
GUARDED = sorted(k for k, v in RULES.items() if v[0] != "public")
SCOPED = sorted(k for k, v in RULES.items() if v[1] is not None)


@dataclass
class World:
    registry: Registry
    team: dict[str, Any]
    volunteer: dict[str, Any]

    def url(self, path: str) -> str:
        return path.format(team_id=self.team["id"], volunteer_id=self.volunteer["id"],
                           channel="sms")


@pytest.fixture(scope="module")
async def world(infra: Infra, database_url: str) -> AsyncIterator[World]:
    settings = registry_settings(infra, database_url)
    async with serving(create_app(settings)) as url:
        pool = await create_pool(settings, schema=settings.db_schema)
        try:
            reg = Registry(settings, url, pool)
            team = await reg.team(HOME, "building_watch")
            yield World(reg, team, await reg.volunteer(team))
        finally:
            await pool.close()


async def _call(world: World, method: str, path: str, token: str | None,
                params: dict[str, str] | None = None) -> httpx.Response:
    # A valid body where the route checks the caller inside (after validating the body).
    body: dict[str, Any] | None = (
        {"on_duty": True} if path.endswith("/availability")
        else {"reason": "scope test"} if method in ("POST", "PUT", "PATCH") else None
    )
    return await call(world.registry.url, method, world.url(path), token, body=body,
                      params=params)


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_bad_tokens_are_401(world: World, route: tuple[str, str]) -> None:
    method, path = route
    assert (await _call(world, method, path, None)).status_code == 401
    for kind, token in bad_tokens(world.registry.settings).items():
        r = await _call(world, method, path, token)
        assert r.status_code == 401, f"{kind}: {r.status_code} {r.text}"


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_the_wrong_role_is_403(world: World, route: tuple[str, str]) -> None:
    method, path = route
    need = RULES[route][0]
    s = world.registry.settings
    # A volunteer other than the record's, and for admin routes a supervisor of the district.
    token = (mint_token(s, sub="sup", role="supervisor", districts=[HOME]) if need == "admin"
             else mint_token(s, sub="vol", role="volunteer"))
    r = await _call(world, method, path, token, params={"team_type": "building_watch"})
    assert r.status_code == 403, f"{r.status_code} {r.text}"


@pytest.mark.parametrize("route", SCOPED, ids=route_id)
async def test_the_wrong_district_sees_nothing(world: World, route: tuple[str, str]) -> None:
    method, path = route
    token = mint_token(world.registry.settings, sub="sup", role="supervisor",
                       districts=["360799"])
    named = await _call(world, method, path, token,
                        params={"district": HOME, "team_type": "building_watch"})
    assert named.status_code == 403, f"asking for {HOME}: {named.status_code} {named.text}"
    if RULES[route][1] == "filter":
        r = await _call(world, method, path, token, params={"team_type": "building_watch"})
        assert r.status_code == 200, r.text
        assert world.volunteer["id"] not in r.text and world.team["id"] not in r.text
        assert HOME not in r.text
