"""Bearer JWTs with a role and the district codes the holder may act in.

Two kinds of token reach a service (docs/auth.md):
- the identity provider's access tokens (OIDC, RS256/ES256 with a key id), when BAIYING_IDP is
  "keycloak" or "oidc" — verified by baiying_shared.oidc against the provider's JWKS;
- development tokens (`baiying token`, HS256 with the shared secret, no key id) for the demo and
  tests — refused outright when BAIYING_PROFILE=prod.
Either way the holder's session may have been revoked (baiying_shared.oidc_revocations).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, TypeVar, cast

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from baiying_shared.errors import Forbidden
from baiying_shared.oidc import JwksCache, NotEntitled, OidcConfig, OidcVerifier, TokenRejected
from baiying_shared.oidc_revocations import RevocationList
from baiying_shared.settings import CommonSettings

T = TypeVar("T")
Role = Literal["duty_desk", "supervisor", "admin", "volunteer"]
ALL_DISTRICTS = "*"
_ALGORITHM = "HS256"
_DEV_KIND = "dev"
_DEVICE_KIND = "device"  # a volunteer's SMS sign-in session (baiying_notifier.signin)
KEYCLOAK_DEV_ISSUER = "http://127.0.0.1:8180/realms/baiying"


class Principal(BaseModel):
    """Who is calling: subject, role, districts; volunteers also carry their volunteer id."""

    model_config = ConfigDict(frozen=True)
    sub: str
    role: Role
    districts: tuple[str, ...] = ()
    volunteer_id: uuid.UUID | None = None
    # Provider session (OIDC `sid`) or volunteer device id: what a revocation names.
    session_id: str | None = None
    issued_at: int | None = None
    name: str | None = None

    def may_act_in(self, district: str) -> bool:
        return self.role == "admin" or ALL_DISTRICTS in self.districts or district in self.districts

    def ensure_district(self, district: str) -> None:
        """Forbidden (403 through install_common) unless the caller may act in `district`."""
        if not self.may_act_in(district):
            raise Forbidden(f"not authorised for district {district}")

    def district_filter(self) -> list[str] | None:
        """None means every district; otherwise the list to restrict queries to."""
        if self.role == "admin" or ALL_DISTRICTS in self.districts:
            return None
        return list(self.districts)

    def districts_in_scope(self, district: str | None) -> list[str] | None:
        """What a list covers: the district asked for (403 unless the caller may act in it),
        else the caller's own (None: every district)."""
        if district is None:
            return self.district_filter()
        self.ensure_district(district)
        return [district]


def mint_token(
    settings: CommonSettings,
    *,
    sub: str,
    role: Role,
    districts: list[str] | tuple[str, ...] = (),
    volunteer_id: uuid.UUID | None = None,
    ttl_s: int = 12 * 3600,
) -> str:
    """Sign a development token (used by `baiying token`, the demo and tests; never in prod)."""
    if settings.profile == "prod":
        raise ValueError("development tokens are not issued when BAIYING_PROFILE=prod")
    now = int(time.time())
    claims: dict[str, object] = {
        "kind": _DEV_KIND,
        "sub": sub,
        "role": role,
        "districts": list(districts),
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + ttl_s,
    }
    if volunteer_id:
        claims["volunteer_id"] = str(volunteer_id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=_ALGORITHM)


def mint_device_token(
    settings: CommonSettings, *, volunteer_id: uuid.UUID, device_id: uuid.UUID, ttl_s: int
) -> str:
    """A volunteer's session after SMS sign-in: bound to the volunteer and to one device."""
    now = int(time.time())
    claims: dict[str, object] = {
        "kind": _DEVICE_KIND,
        "sub": f"volunteer:{volunteer_id}",
        "role": "volunteer",
        "volunteer_id": str(volunteer_id),
        "session_id": str(device_id),
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=_ALGORITHM)


def decode_token(settings: CommonSettings, token: str) -> Principal:
    """Verify a development token's signature, expiry and issuer; 401 with the reason otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss"]},
        )
        if settings.profile == "prod" and claims.get("kind") != _DEVICE_KIND:
            raise _unauthorized(
                "development tokens are refused in prod; sign in through the provider"
            )
        claims["issued_at"] = claims.get("iat")
        return Principal.model_validate(claims, strict=False)
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, ValidationError) as exc:
        raise _unauthorized(f"invalid token: {exc.__class__.__name__}") from exc


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the Authorization header. Never from the URL, where logs keep it: the
    live stream takes a short ticket instead (baiying_shared.stream_tickets)."""
    token = credentials.credentials if credentials else None
    if not token:
        raise _unauthorized("missing bearer token")
    return await principal_from_token(request.app.state, token)


async def principal_from_token(state: Any, token: str) -> Principal:
    """Authenticate `token` for the app with this `state` (also for WebSockets); 401/403 if not."""
    settings: CommonSettings = state.settings
    principal = await authenticate(settings, token, state=state)
    if revocations(state).is_revoked(
        sub=principal.sub, session_id=principal.session_id, issued_at=principal.issued_at
    ):
        raise _unauthorized("session revoked; sign in again")
    return principal


def oidc_config(settings: CommonSettings) -> OidcConfig | None:
    """The provider settings, or None when only development tokens are accepted."""
    if settings.idp == "dev":
        return None
    issuer = settings.oidc_issuer or (KEYCLOAK_DEV_ISSUER if settings.idp == "keycloak" else "")
    if not issuer:
        raise ValueError("BAIYING_IDP=oidc needs BAIYING_OIDC_ISSUER")
    return OidcConfig(
        issuer=issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url or None,
        role_claim=settings.oidc_role_claim,
        districts_claim=settings.oidc_districts_claim,
        leeway_s=settings.oidc_leeway_s,
    )


def verifier_for(settings: CommonSettings, state: Any) -> OidcVerifier | None:
    """One verifier (and JWKS cache) per app, built on first use."""
    existing: OidcVerifier | None = getattr(state, "oidc_verifier", None)
    if existing is not None:
        return existing
    config = oidc_config(settings)
    if config is None:
        return None
    jwks = JwksCache(config=config, client=httpx.AsyncClient())
    verifier = OidcVerifier(config=config, jwks=jwks)
    state.oidc_verifier = verifier
    return verifier


def revocations(state: Any) -> RevocationList:
    """The app's revocation list: its runtime's (fed by auth.revocations.v1), else its own."""
    runtime = getattr(state, "runtime", None)
    if runtime is not None:
        return runtime.revocations  # type: ignore[no-any-return]
    existing: RevocationList | None = getattr(state, "revocations", None)
    if existing is None:
        existing = RevocationList()
        state.revocations = existing
    return existing


@asynccontextmanager
async def closed_on_revocation(state: Any, principal: Principal) -> AsyncIterator[asyncio.Event]:
    """For SSE streams and WebSockets: an event set when the holder's session is revoked.

    A stream loop races its next message against `revoked.wait()` and ends when it fires.
    """
    watch = revocations(state).watch(sub=principal.sub, session_id=principal.session_id)
    try:
        yield watch.revoked
    finally:
        revocations(state).unwatch(watch)


async def close_when_revoked(
    state: Any, principal: Principal, close: Callable[[], Awaitable[None]]
) -> None:
    """Run beside a WebSocket: call `close` as soon as the holder's session is revoked."""
    async with closed_on_revocation(state, principal) as revoked:
        await revoked.wait()
    await close()


async def until_revoked(
    state: Any, principal: Principal, source: AsyncIterator[T]
) -> AsyncIterator[T]:
    """Yield from `source` (an SSE stream) until the holder's session is revoked."""
    async with closed_on_revocation(state, principal) as revoked:
        items = aiter(source)
        while True:
            item = asyncio.ensure_future(anext(items))
            stop = asyncio.ensure_future(revoked.wait())
            done, _ = await asyncio.wait({item, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop in done:
                item.cancel()
                return
            stop.cancel()
            try:
                yield item.result()
            except StopAsyncIteration:
                return


async def authenticate(settings: CommonSettings, token: str, *, state: Any) -> Principal:
    """A provider token (it names a key id) goes to the OIDC verifier; others are dev tokens."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise _unauthorized("invalid token: malformed") from exc
    verifier = verifier_for(settings, state)
    if "kid" not in header or verifier is None:
        return decode_token(settings, token)
    try:
        staff = await verifier.verify(token)
    except TokenRejected as exc:
        raise _unauthorized(str(exc)) from exc
    except NotEntitled as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    return Principal(
        sub=staff.sub,
        role=cast(Role, staff.role),  # staff_claims only returns STAFF_ROLES
        districts=staff.districts,
        session_id=staff.session_id,
        issued_at=staff.issued_at,
        name=staff.name,
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Any:
    """A dependency that admits only the given roles (admin always)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return principal

    return Depends(check)


# Route parameters declare who may call: `principal: DutyDeskPrincipal`.
AdminPrincipal = Annotated[Principal, require_role("admin")]
DutyDeskPrincipal = Annotated[Principal, require_role("duty_desk")]
StaffPrincipal = Annotated[Principal, require_role("duty_desk", "supervisor")]
VolunteerPrincipal = Annotated[Principal, require_role("volunteer")]
