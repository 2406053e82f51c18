"""What the consoles are told about sign-in, and the policy that holds the page to it.

No browser: the router as the dispatcher mounts it, with the dispatcher's settings. Provider
mode names the issuer and client and lets scripts reach that one origin besides their own;
development mode names no provider (the paste flow), and a page never gets both.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from baiying_consoles import router as console_router
from baiying_consoles.config import MapSettings
from baiying_shared.auth import mint_token
from baiying_shared.oidc_api import me
from baiying_shared.settings import CommonSettings


def _client(settings: CommonSettings) -> TestClient:
    app = FastAPI()
    app.state.settings = settings
    app.include_router(console_router(MapSettings(tiles="")))
    app.get("/v1/auth/me")(me)
    return TestClient(app)


def test_provider_mode_names_the_provider_and_only_its_origin() -> None:
    client = _client(CommonSettings(idp="oidc", oidc_client_id="gz-consoles",
                                    oidc_issuer="https://sso.gz.example:8443/realms/gz/"))
    assert client.get("/console-config.json").json()["auth"] == {
        "mode": "oidc", "issuer": "https://sso.gz.example:8443/realms/gz",
        "client_id": "gz-consoles", "scope": "openid profile"}
    for page in ("/desk", "/dashboard", "/dashboard/incidents/x"):
        csp = client.get(page).headers["content-security-policy"]
        assert "connect-src 'self' https://sso.gz.example:8443;" in csp, csp
        assert csp.count("sso.gz.example") == 1, csp  # scripts only: no image, style, frame


def test_the_local_keycloak_is_the_default_issuer_for_keycloak_mode() -> None:
    auth = _client(CommonSettings(idp="keycloak")).get("/console-config.json").json()["auth"]
    assert auth["issuer"] == "http://127.0.0.1:8180/realms/baiying"
    assert auth["client_id"] == "baiying-consoles"


def test_development_mode_names_no_provider() -> None:
    client = _client(CommonSettings(idp="dev"))
    assert client.get("/console-config.json").json()["auth"] == {"mode": "dev"}
    assert "connect-src 'self';" in client.get("/desk").headers["content-security-policy"]


def test_me_is_what_the_service_makes_of_the_token() -> None:
    settings = CommonSettings()
    client = _client(settings)
    token = mint_token(settings, sub="desk-1", role="duty_desk", districts=["360702"])
    r = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"sub": "desk-1", "role": "duty_desk", "districts": ["360702"], "name": None}
    assert client.get("/v1/auth/me").status_code == 401

