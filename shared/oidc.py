"""OpenID Connect access tokens: signature against the provider's JWKS, then claims to a Principal.

Why each check is here:
- the key set is cached and refetched only when a token names a key id we have not seen
  (the provider rotated its keys), at most once per `min_refresh_s`, so a flood of forged
  key ids cannot turn into a flood of requests to the provider;
- every key admits only the algorithms of its own key type (RSA → RS*/PS*, EC → ES* of its
  curve, OKP → EdDSA), and never HMAC, so a token "signed" with the public key as an HS256
  secret is refused before any signature maths (alg confusion);
- issuer, audience, exp, nbf are required and checked with a bounded leeway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from baiying_shared.logging import get_logger

log = get_logger(__name__)

MAX_LEEWAY_S = 120
# Most powerful first: a user holding two roles acts with the first.
STAFF_ROLES = ("admin", "supervisor", "duty_desk")
_ALGS_BY_KTY: Mapping[str, frozenset[str]] = {
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    "OKP": frozenset({"EdDSA"}),
}
_EC_ALG_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


class TokenRejected(Exception):
    """The token is not one of ours (401): bad signature, issuer, audience, time, key."""


class NotEntitled(Exception):
    """The token is genuine but grants nothing here (403): no known role, no district."""


@dataclass(frozen=True)
class OidcConfig:
    """Where the provider is and which claims carry role and districts."""

    issuer: str
    audience: str
    jwks_url: str | None = None  # None: read from the issuer's discovery document
    role_claim: str = "realm_access.roles"  # dotted path; a string or a list of strings
    districts_claim: str = "districts"
    leeway_s: int = 30
    min_refresh_s: float = 10.0
    http_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"oidc leeway_s must be within 0..{MAX_LEEWAY_S} s")


@dataclass(frozen=True)
class StaffClaims:
    """What a verified staff token says about its holder."""

    sub: str
    role: str
    districts: tuple[str, ...]
    session_id: str | None
    issued_at: int
    name: str | None = None


def allowed_algorithms(jwk: Mapping[str, Any]) -> frozenset[str]:
    """The algorithms a key may verify: its declared `alg` if it fits the type, else its type's."""
    kty = jwk.get("kty")
    if kty == "EC":
        curve_alg = _EC_ALG_BY_CURVE.get(str(jwk.get("crv")))
        by_type = frozenset({curve_alg}) if curve_alg else frozenset()
    else:
        by_type = _ALGS_BY_KTY.get(str(kty), frozenset())
    declared = jwk.get("alg")
    if declared is not None:
        return frozenset({declared}) & by_type
    return by_type


@dataclass
class JwksCache:
    """The provider's signing keys by key id, refetched on an unknown id (rate-limited)."""

    config: OidcConfig
    client: httpx.AsyncClient
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, tuple[PyJWK, frozenset[str]]] = field(default_factory=dict)
    _fetched_at: float | None = None
    _jwks_url: str | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key(self, kid: str) -> tuple[PyJWK, frozenset[str]]:
        """The key with `kid` and its algorithms; TokenRejected if the provider has no such key."""
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh()
        if kid not in self._keys:
            raise TokenRejected(f"unknown signing key {kid!r}")
        return self._keys[kid]

    def _may_refresh(self) -> bool:
        last = self._fetched_at
        return last is None or self.clock() - last >= self.config.min_refresh_s

    async def _refresh(self) -> None:
        self._fetched_at = self.clock()
        try:
            url = await self._url()
            resp = await self.client.get(url, timeout=self.config.http_timeout_s)
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc.jwks_fetch_failed", error=str(exc))
            raise TokenRejected("identity provider keys unavailable") from exc
        self._keys = _parse_keys(body)
        log.info("oidc.jwks_refreshed", keys=sorted(self._keys))

    async def _url(self) -> str:
        if self._jwks_url is None:
            self._jwks_url = self.config.jwks_url or await self._discover()
        return self._jwks_url

    async def _discover(self) -> str:
        well_known = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        resp = await self.client.get(well_known, timeout=self.config.http_timeout_s)
        resp.raise_for_status()
        return str(resp.json()["jwks_uri"])


def _parse_keys(body: Mapping[str, Any]) -> dict[str, tuple[PyJWK, frozenset[str]]]:
    keys: dict[str, tuple[PyJWK, frozenset[str]]] = {}
    for raw in body.get("keys", []):
        if raw.get("use", "sig") != "sig" or "kid" not in raw:
            continue
        algs = allowed_algorithms(raw)
        if not algs:
            continue  # a symmetric or unknown key type never verifies anything here
        try:
            keys[raw["kid"]] = (PyJWK(raw, algorithm=sorted(algs)[0]), algs)
        except jwt.PyJWKError:
            log.warning("oidc.jwk_unusable", kid=raw.get("kid"))
    return keys


@dataclass
class OidcVerifier:
    """Verifies a provider's access tokens and reads role and districts from them."""

    config: OidcConfig
    jwks: JwksCache
    now: Callable[[], float] = time.time

    async def verify(self, token: str) -> StaffClaims:
        """TokenRejected (401) or NotEntitled (403) unless the token grants a staff role here."""
        claims = await self._verified_claims(token)
        return staff_claims(claims, self.config)

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("malformed token") from exc
        kid, alg = header.get("kid"), header.get("alg")
        if not isinstance(kid, str):
            raise TokenRejected("token names no signing key")
        key, algs = await self.jwks.key(kid)
        if alg not in algs:
            raise TokenRejected(f"algorithm {alg!r} not allowed for key {kid!r}")
        return self._decode(token, key, str(alg))

    def _decode(self, token: str, key: PyJWK, alg: str) -> dict[str, Any]:
        try:
            # exp/nbf are checked below against our own clock (injectable: tests age a token).
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("token is not meant for Baiying (audience)") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("token from an unexpected issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"invalid token: {exc.__class__.__name__}") from exc
        self._check_times(claims, self.now())
        return claims

    def _check_times(self, claims: Mapping[str, Any], now: float) -> None:
        leeway = self.config.leeway_s
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or now > exp + leeway:
            raise TokenRejected("token expired")
        if nbf is not None and (not isinstance(nbf, int | float) or now + leeway < nbf):
            raise TokenRejected("token not yet valid")


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [s for item in value if isinstance(item, str) for s in _strings(item)]
    return []


def staff_claims(claims: Mapping[str, Any], config: OidcConfig) -> StaffClaims:
    """Role and districts from the configured claims; NotEntitled with the reason otherwise."""
    roles = set(_strings(_claim(claims, config.role_claim)))
    role = next((r for r in STAFF_ROLES if r in roles), None)
    if role is None:
        raise NotEntitled(
            f"signed in, but no Baiying role ({', '.join(STAFF_ROLES)})"
            f" in claim {config.role_claim!r}"
        )
    districts = tuple(dict.fromkeys(_strings(_claim(claims, config.districts_claim))))
    if role != "admin" and not districts:
        raise NotEntitled(
            f"signed in as {role}, but no district in claim {config.districts_claim!r}"
        )
    sid = claims.get("sid")
    name = claims.get("name") or claims.get("preferred_username")
    return StaffClaims(
        sub=str(claims["sub"]),
        role=role,
        districts=districts,
        session_id=sid if isinstance(sid, str) else None,
        issued_at=int(claims.get("iat", 0)),
        name=name if isinstance(name, str) else None,
    )
