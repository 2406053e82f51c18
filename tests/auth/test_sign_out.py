"""Sign-out and admin revocation on the real dispatcher reach another service (the registry)."""

from __future__ import annotations

import httpx

from baiying_dispatcher.app import create_app as create_dispatcher
from baiying_registry.app import create_app as create_registry
from tests.auth.keycloak import Keycloak
from tests.conftest import Infra
from tests.dispatcher.conftest import dispatcher_settings
from tests.registry.conftest import registry_settings
from tests.support import eventually, serving


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sign_out_and_admin_revocation_end_sessions_everywhere(
    keycloak: Keycloak, infra: Infra, database_url: str
) -> None:
    oidc = {"idp": "oidc", "oidc_issuer": keycloak.issuer, "oidc_jwks_url": keycloak.jwks_url}
    d_settings = dispatcher_settings(infra, database_url, **oidc)
    # Same topic prefix: the two services are one deployment.
    r_settings = registry_settings(infra, database_url, **oidc).model_copy(
        update={"topic_prefix": d_settings.topic_prefix}
    )
    desk = await keycloak.token("desk.zhanggong")
    supervisor = await keycloak.token("sup.zhanggong")
    admin = await keycloak.token("admin.city")
    async with (
        serving(create_dispatcher(d_settings)) as d_url,
        serving(create_registry(r_settings)) as r_url,
        httpx.AsyncClient(base_url=d_url, timeout=30) as dispatcher,
        httpx.AsyncClient(base_url=r_url, timeout=30) as registry,
    ):
        assert (await dispatcher.get("/v1/incidents", headers=_bearer(desk))).status_code == 200
        assert (await registry.get("/v1/teams", headers=_bearer(desk))).status_code == 200

        out = await dispatcher.post("/v1/auth/sign-out", headers=_bearer(desk))
        assert out.status_code == 202, out.text
        assert (await dispatcher.get("/v1/incidents", headers=_bearer(desk))).status_code == 401

        async def registry_refuses(token: str) -> bool:
            return (await registry.get("/v1/teams", headers=_bearer(token))).status_code == 401

        await eventually(lambda: registry_refuses(desk), timeout=60, what="sign-out everywhere")

        me = (await dispatcher.get("/v1/incidents", headers=_bearer(supervisor))).status_code
        assert me == 200
        sub = _sub(supervisor)
        not_admin = await dispatcher.post(
            "/v1/auth/revocations", json={"sub": sub}, headers=_bearer(supervisor)
        )
        assert not_admin.status_code == 403
        bad = await dispatcher.post(
            "/v1/auth/revocations", json={"sub": ""}, headers=_bearer(admin)
        )
        assert bad.status_code == 422 and "sub" in bad.text
        done = await dispatcher.post(
            "/v1/auth/revocations", json={"sub": sub, "reason": "left"}, headers=_bearer(admin)
        )
        assert done.status_code == 202, done.text
        assert (
            await dispatcher.get("/v1/incidents", headers=_bearer(supervisor))
        ).status_code == 401
        await eventually(
            lambda: registry_refuses(supervisor), timeout=60, what="revoked everywhere"
        )
        assert (await registry.get("/v1/teams", headers=_bearer(admin))).status_code == 200


def _sub(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
