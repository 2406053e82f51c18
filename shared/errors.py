"""Domain refusals every service raises, mapped once (in `web.install_common`) to one error shape.

Services and helpers raise these instead of `HTTPException`, so the rule "what status does this
refusal get" lives here and a service function stays callable from a consumer or a CLI. The shape:

    {"error": "<one readable line>", "code": "<kind>", "detail": <list of field errors | text>}

`detail` keeps FastAPI's meaning (a list of {field, loc, message, type} for 422, else the text), so
clients written against FastAPI's default keep working.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request the service refuses; `status` and `code` say how it reaches a client."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init_subclass__(cls, *, status: int = 0, code: str = "", **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls.status, cls.code = status or cls.status, code or cls.code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> Any:
        """What goes in the shape's `detail`: the text unless a subclass has more."""
        return self.message


class NotFound(DomainError, status=404, code="not_found"):
    """No such thing, or not one the caller may see (the two are not told apart)."""


class Conflict(DomainError, status=409, code="conflict"):
    """The request contradicts current state or an earlier request."""


class Forbidden(DomainError, status=403, code="forbidden"):
    """The caller is known but may not do this."""


class TooLarge(DomainError, status=413, code="too_large"):
    """The body is over a stated limit."""


class Unavailable(DomainError, status=503, code="unavailable"):
    """A dependency (database, broker, carrier) cannot serve the request now."""


class InvalidField(DomainError, status=422, code="invalid"):
    """`field` (dotted, as in the request) has an unacceptable value."""

    def __init__(self, field: str, message: str, *, where: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
        self.where = where  # body | query | path | header: where the value came from

    def detail(self) -> Any:
        """One field error in the same form as a request-validation failure."""
        loc = [self.where, *self.field.split(".")]
        return [field_error(loc, self.reason, "value_error")]


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
          422: "invalid", 429: "too_many_requests", 502: "bad_gateway", 503: "unavailable"}


def code_for(status: int) -> str:
    """The shape's `code` for a bare HTTP status (an HTTPException from a library or FastAPI)."""
    return _CODES.get(status, "error" if status >= 500 else "bad_request")


def field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    """A location as the dotted field a person typed: ("body", "need", "teams") -> need.teams."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def field_error(loc: list[Any] | tuple[Any, ...], message: str, kind: str) -> dict[str, Any]:
    """One entry of a 422's `detail` list."""
    return {"field": field_of(loc), "loc": list(loc), "message": message, "type": kind}


def shape(*, error: str, code: str, detail: Any) -> dict[str, Any]:
    """The one error body every service answers with."""
    return {"error": error, "code": code, "detail": detail}


def invalid(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """A 422 body from field errors; `error` summarises the first five."""
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return shape(error=f"invalid input: {summary}", code="invalid", detail=errors)
