"""Staff access tokens from the real Keycloak: who gets in, who is refused, and why."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from baiying_shared.auth import revocations
from baiying_shared.oidc import JwksCache, OidcConfig, OidcVerifier, TokenRejected
from baiying_shared.settings import CommonSettings
from tests.auth.keycloak import Keycloak
from tests.auth.support import bearer, guarded_app


def _settings(kc: Keycloak, **overrides: object) -> CommonSettings:
    values: dict[str, object] = {
        "profile": "test",
        "idp": "oidc",
        "oidc_issuer": kc.issuer,
        "oidc_jwks_url": kc.jwks_url,
        "jwt_secret": "test-secret-for-auth-tests-0123456789",
    }
    values.update(overrides)
    return CommonSettings.model_validate(values)


@pytest.fixture
async def app(keycloak: Keycloak) -> FastAPI:
    return guarded_app(_settings(keycloak))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_desk_officer_acts_in_own_district_only(
    keycloak: Keycloak, client: httpx.AsyncClient
) -> None:
    token = await keycloak.token("desk.zhanggong")
    me = (await client.get("/me", headers=bearer(token))).json()
    assert (me["role"], me["districts"], me["name"]) == (
        "duty_desk",
        ["360702"],
        "章贡区值班台 Demo",
    )
    assert me["session_id"]
    ok = await client.post("/districts/360702/incidents", headers=bearer(token))
    assert ok.status_code == 200, ok.text
    other = await client.post("/districts/360703/incidents", headers=bearer(token))
    assert other.status_code == 403
    assert "360703" in other.json()["detail"]


async def test_supervisor_may_not_raise(keycloak: Keycloak, client: httpx.AsyncClient) -> None:
    token = await keycloak.token("sup.nankang")
    r = await client.post("/districts/360703/incidents", headers=bearer(token))
    assert r.status_code == 403
    assert "supervisor" in r.json()["detail"]


async def test_admin_needs_no_district(keycloak: Keycloak, client: httpx.AsyncClient) -> None:
    token = await keycloak.token("admin.city")
    r = await client.post("/districts/360703/incidents", headers=bearer(token))
    assert r.status_code == 200, r.text


async def test_genuine_token_without_role_or_district_is_403_with_reason(
    keycloak: Keycloak, client: httpx.AsyncClient
) -> None:
    norole = await client.get("/me", headers=bearer(await keycloak.token("norole.zhanggong")))
    assert norole.status_code == 403
    assert "no Baiying role" in norole.json()["detail"]
    assert "realm_access.roles" in norole.json()["detail"]
    nodistrict = await client.get("/me", headers=bearer(await keycloak.token("nodistrict.desk")))
    assert nodistrict.status_code == 403
    assert "no district" in nodistrict.json()["detail"]


async def test_token_for_another_audience_is_refused(
    keycloak: Keycloak, client: httpx.AsyncClient
) -> None:
    token = await keycloak.token("desk.zhanggong", client_id="other-app")
    r = await client.get("/me", headers=bearer(token))
    assert r.status_code == 401
    assert "audience" in r.json()["detail"]


async def test_token_from_unexpected_issuer_is_refused(keycloak: Keycloak) -> None:
    settings = _settings(keycloak, oidc_issuer=f"{keycloak.base_url}/realms/elsewhere")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded_app(settings)), base_url="http://t"
    ) as c:
        r = await c.get("/me", headers=bearer(await keycloak.token("desk.zhanggong")))
    assert r.status_code == 401
    assert "issuer" in r.json()["detail"]


def _verifier(
    kc: Keycloak,
    http: httpx.AsyncClient,
    *,
    now: Callable[[], float] = time.time,
    clock: Callable[[], float] = time.monotonic,
) -> OidcVerifier:
    config = OidcConfig(
        issuer=kc.issuer, audience="baiying", jwks_url=kc.jwks_url, min_refresh_s=10.0, leeway_s=30
    )
    return OidcVerifier(
        config=config, jwks=JwksCache(config=config, client=http, clock=clock), now=now
    )


async def test_expired_token_is_refused_past_the_leeway(keycloak: Keycloak) -> None:
    token = await keycloak.token("desk.zhanggong")
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    async with httpx.AsyncClient() as http:
        within = _verifier(keycloak, http, now=lambda: exp + 20)
        assert (await within.verify(token)).role == "duty_desk"  # 20 s of skew is tolerated
        late = _verifier(keycloak, http, now=lambda: exp + 31)
        with pytest.raises(TokenRejected, match="expired"):
            await late.verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(
    keycloak: Keycloak, client: httpx.AsyncClient
) -> None:
    genuine = await keycloak.token("admin.city")
    kid = jwt.get_unverified_header(genuine)["kid"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(keycloak.jwks_url)).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    pem = jwt.PyJWK(jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT itself refuses PEM keys as HMAC secrets, so sign by hand as an attacker would.
    forged = _hs256(claims, pem, kid=kid)
    with_kid = await client.get("/me", headers=bearer(forged))
    assert with_kid.status_code == 401
    assert "HS256" in with_kid.json()["detail"]
    without_kid = await client.get("/me", headers=bearer(_hs256(claims, pem, kid=None)))
    assert without_kid.status_code == 401  # falls to the dev-token check: wrong secret


def _hs256(claims: dict[str, object], secret: bytes, *, kid: str | None) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header: dict[str, str] = {"alg": "HS256", "typ": "JWT"} | ({"kid": kid} if kid else {})
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


async def test_revoked_session_is_refused(
    keycloak: Keycloak, app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = await keycloak.token("desk.zhanggong")
    other_session = await keycloak.token("desk.zhanggong")
    me = (await client.get("/me", headers=bearer(token))).json()
    revocations(app.state).revoke(sub=me["sub"], session_id=me["session_id"], at=time.time())
    r = await client.get("/me", headers=bearer(token))
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    assert (await client.get("/me", headers=bearer(other_session))).status_code == 200
    revocations(app.state).revoke(sub=me["sub"], session_id=None, at=time.time())
    assert (await client.get("/me", headers=bearer(other_session))).status_code == 401


async def test_rotated_signing_key_is_fetched_once_then_cached(keycloak: Keycloak) -> None:
    fetches: list[str] = []

    async def count(request: httpx.Request) -> None:
        fetches.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [count]}) as http:
        monotonic = [0.0]
        verifier = _verifier(keycloak, http, clock=lambda: monotonic[0])
        before = await keycloak.token("desk.zhanggong")
        await verifier.verify(before)
        assert len(fetches) == 1
        realm_id = (await keycloak.admin("GET", "")).json()["id"]
        created = await keycloak.admin(
            "POST",
            "/components",
            json={
                "name": f"rotated-{time.time_ns()}",
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm_id,
                "config": {
                    "priority": ["1000"],
                    "keySize": ["2048"],
                    "active": ["true"],
                    "enabled": ["true"],
                },
            },
        )
        try:
            after = await keycloak.token("desk.zhanggong")
            new_kid = jwt.get_unverified_header(after)["kid"]
            assert new_kid != jwt.get_unverified_header(before)["kid"]
            monotonic[0] += 10.0  # refetches are at most one per min_refresh_s
            assert (await verifier.verify(after)).role == "duty_desk"
            assert len(fetches) == 2  # the unknown kid caused exactly one refetch
            await verifier.verify(after)
            await verifier.verify(before)  # the old key is still published, still cached
            assert len(fetches) == 2
            forged = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "nope"})
            for _ in range(3):
                with pytest.raises(TokenRejected, match="unknown signing key"):
                    await verifier.verify(forged)
            assert len(fetches) == 2  # unknown kids cannot make us hammer the provider
        finally:
            component = created.headers["Location"].rsplit("/", 1)[-1]
            await keycloak.admin("DELETE", f"/components/{component}")
