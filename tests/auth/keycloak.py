"""Talking to the project's local Keycloak (deploy/local/keycloak.sh): tokens and admin calls."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "baiying-dev"  # the dev realm's demo password (deploy/keycloak/realm-baiying.json)


@dataclass(frozen=True)
class Keycloak:
    base_url: str
    realm: str = "baiying"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    async def token(self, username: str, *, client_id: str = "baiying-tests") -> str:
        """An access token by the password grant (enabled only on the dev realm's test client)."""
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{self.issuer}/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": client_id,
                    "username": username,
                    "password": PASSWORD,
                    "scope": "openid",
                },
            )
        r.raise_for_status()
        return str(r.json()["access_token"])

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to the admin REST API of the baiying realm, as the bootstrap admin."""
        async with httpx.AsyncClient() as http:
            t = await http.post(
                f"{self.base_url}/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": os.environ.get("BAIYING_KEYCLOAK_ADMIN", "admin"),
                    "password": os.environ.get("BAIYING_KEYCLOAK_ADMIN_PASSWORD", "admin"),
                },
            )
            t.raise_for_status()
            headers = {"Authorization": f"Bearer {t.json()['access_token']}"}
            r = await http.request(
                method,
                f"{self.base_url}/admin/realms/{self.realm}{path}",
                headers=headers,
                **kwargs,
            )
        r.raise_for_status()
        return r


def start_keycloak() -> Keycloak:
    """Start (or find running) the project's Keycloak; bounded by the script's own wait."""
    port = os.environ.get("BAIYING_KEYCLOAK_PORT", "8180")
    subprocess.run([str(ROOT / "deploy/local/keycloak.sh"), "up"], check=True, timeout=600)
    return Keycloak(base_url=f"http://127.0.0.1:{port}")
