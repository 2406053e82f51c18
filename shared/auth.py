"""Bearer JWTs with a role and the district codes the holder may act in."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from baiying_shared.settings import CommonSettings

Role = Literal["duty_desk", "supervisor", "admin", "volunteer"]
ALL_DISTRICTS = "*"
_ALGORITHM = "HS256"


class Principal(BaseModel):
    """Who is calling: subject, role, districts; volunteers also carry their volunteer id."""

    model_config = ConfigDict(frozen=True)
    sub: str
    role: Role
    districts: tuple[str, ...] = ()
    volunteer_id: uuid.UUID | None = None

    def may_act_in(self, district: str) -> bool:
        return self.role == "admin" or ALL_DISTRICTS in self.districts or district in self.districts

    def ensure_district(self, district: str) -> None:
        """403 unless the caller may act in `district`."""
        if not self.may_act_in(district):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"not authorised for district {district}"
            )

    def district_filter(self) -> list[str] | None:
        """None means every district; otherwise the list to restrict queries to."""
        if self.role == "admin" or ALL_DISTRICTS in self.districts:
            return None
        return list(self.districts)


def mint_token(
    settings: CommonSettings,
    *,
    sub: str,
    role: Role,
    districts: list[str] | tuple[str, ...] = (),
    volunteer_id: uuid.UUID | None = None,
    ttl_s: int = 12 * 3600,
) -> str:
    """Sign a token (used by `baiying token`, the demo and tests)."""
    now = int(time.time())
    claims: dict[str, object] = {
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


def decode_token(settings: CommonSettings, token: str) -> Principal:
    """Verify signature, expiry and issuer; raise 401 with the reason otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss"]},
        )
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
    """The caller, from the Authorization header (or ?access_token= for EventSource/WebSocket)."""
    token = credentials.credentials if credentials else request.query_params.get("access_token")
    if not token:
        raise _unauthorized("missing bearer token")
    settings: CommonSettings = request.app.state.settings
    return decode_token(settings, token)


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
