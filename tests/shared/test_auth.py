"""Bearer tokens: missing, expired, forged and out-of-district callers are refused."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest
from fastapi import HTTPException

from baiying_shared.auth import decode_token, mint_device_token, mint_token
from baiying_shared.settings import CommonSettings
from tests.auth.support import bearer, guarded_app

SETTINGS = CommonSettings(profile="test", jwt_secret="test-secret-for-auth-tests-0123456789")


@pytest.fixture
async def client() -> httpx.AsyncClient:
    app = guarded_app(SETTINGS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_valid_token_in_district_is_admitted(client: httpx.AsyncClient) -> None:
    token = mint_token(SETTINGS, sub="desk-1", role="duty_desk", districts=["360702"])
    r = await client.post("/districts/360702/incidents", headers=bearer(token))
    assert r.status_code == 200, r.text


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/me")
    assert r.status_code == 401
    assert "missing" in r.json()["detail"]


async def test_expired_token_is_401(client: httpx.AsyncClient) -> None:
    token = mint_token(SETTINGS, sub="desk-1", role="duty_desk", districts=["360702"], ttl_s=-5)
    r = await client.get("/me", headers=bearer(token))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


async def test_forged_token_is_401(client: httpx.AsyncClient) -> None:
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "districts": ["*"], "iss": "baiying", "exp": 9999999999},
        "not-the-secret",
        algorithm="HS256",
    )
    r = await client.get("/me", headers=bearer(forged))
    assert r.status_code == 401
    unsigned = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "baiying", "exp": 9999999999}, None, algorithm="none"
    )
    assert (await client.get("/me", headers=bearer(unsigned))).status_code == 401


async def test_out_of_district_is_403(client: httpx.AsyncClient) -> None:
    token = mint_token(SETTINGS, sub="desk-2", role="duty_desk", districts=["360703"])
    r = await client.post("/districts/360702/incidents", headers=bearer(token))
    assert r.status_code == 403
    assert "360702" in r.json()["detail"]


async def test_wrong_role_is_403(client: httpx.AsyncClient) -> None:
    token = mint_token(SETTINGS, sub="v", role="volunteer", districts=["360702"])
    r = await client.post("/districts/360702/incidents", headers=bearer(token))
    assert r.status_code == 403


def test_prod_refuses_placeholder_secret() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        CommonSettings(profile="prod", database_url="postgresql://u:p@db/x")


def test_dev_tokens_are_neither_minted_nor_accepted_in_prod() -> None:
    prod = CommonSettings(
        profile="prod",
        jwt_secret="a-real-secret-from-the-vault-0123456789",
        database_url="postgresql://baiying:s3cret@db:5432/baiying",
    )
    with pytest.raises(ValueError, match="prod"):
        mint_token(prod, sub="desk-1", role="duty_desk", districts=["360702"])
    # Same secret as prod, so only the token's kind can be what refuses it.
    twin = prod.model_copy(update={"profile": "test"})
    token = mint_token(twin, sub="desk-1", role="duty_desk", districts=["360702"])
    assert decode_token(twin, token).sub == "desk-1"
    with pytest.raises(HTTPException) as refused:
        decode_token(prod, token)
    assert refused.value.status_code == 401
    assert "refused in prod" in str(refused.value.detail)
    device = mint_device_token(prod, volunteer_id=uuid.uuid4(), device_id=uuid.uuid4(), ttl_s=60)
    assert decode_token(prod, device).role == "volunteer"  # SMS sign-in sessions are real ones


async def test_dev_token_still_works_beside_an_oidc_provider() -> None:
    """With BAIYING_IDP set, a token without a key id is still checked as a dev token (not prod)."""
    settings = CommonSettings(
        profile="test", jwt_secret=SETTINGS.jwt_secret, idp="oidc", oidc_issuer="http://idp.invalid"
    )
    app = guarded_app(settings)
    token = mint_token(settings, sub="desk-1", role="duty_desk", districts=["360702"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/me", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["issued_at"] is not None
