"""Stream tickets: what a browser's EventSource carries instead of the caller's access token.

EventSource cannot send an Authorization header, so whatever authenticates it rides in the
URL, where proxies, access logs and browser history keep it. An access token there (a
provider's, valid for many minutes, good on every endpoint) is a credential left lying
around. The page therefore trades its token (in the header) for a ticket first: signed with
the services' shared secret, good for `TTL_S` seconds, accepted only to open a stream, and
carrying the session it came from so that signing out or a revocation still ends it.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from baiying_shared.auth import Principal, principal_from_token, revocations
from baiying_shared.settings import CommonSettings

TTL_S = 30  # long enough to open the stream after asking, short enough to be worthless later
_KIND, _AUDIENCE, _ALGORITHM = "stream", "baiying-stream", "HS256"
_STAFF = ("duty_desk", "supervisor", "admin")


def mint(settings: CommonSettings, principal: Principal, *, ttl_s: int = TTL_S) -> str:
    """A ticket for `principal` (already authenticated by its access token)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "kind": _KIND,
        "aud": _AUDIENCE,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + ttl_s,
        **principal.model_dump(mode="json", exclude_none=True),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=_ALGORITHM)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail)


def read(settings: CommonSettings, ticket: str) -> Principal:
    """The principal a ticket was minted for; 401 naming why it is refused."""
    try:
        claims = jwt.decode(
            ticket,
            settings.jwt_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("ticket expired: ask for a new one") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"invalid ticket: {exc.__class__.__name__}") from exc
    if claims.get("kind") != _KIND:
        raise _unauthorized("invalid ticket: not a stream ticket")
    fields = {k: v for k, v in claims.items() if k in Principal.model_fields}
    try:
        return Principal.model_validate(fields, strict=False)
    except ValidationError as exc:
        raise _unauthorized("invalid ticket: ValidationError") from exc


_bearer = HTTPBearer(auto_error=False)


async def stream_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(description="from POST /v1/stream/tickets")] = None,
) -> Principal:
    """The staff member opening a stream: by the Authorization header, else by `?ticket=`."""
    state: Any = request.app.state
    if credentials is not None:
        principal = await principal_from_token(state, credentials.credentials)
    elif ticket:
        principal = read(state.settings, ticket)
        if revocations(state).is_revoked(
            sub=principal.sub, session_id=principal.session_id, issued_at=principal.issued_at
        ):
            raise _unauthorized("session revoked; sign in again")
    else:
        raise _unauthorized("missing bearer token or ?ticket= (POST /v1/stream/tickets)")
    if principal.role not in _STAFF:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    return principal


StreamPrincipal = Annotated[Principal, Depends(stream_principal)]
