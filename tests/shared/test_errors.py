"""Every refusal, whoever raises it, reaches the client in the one shape (baiying_shared.errors)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from baiying_shared import errors
from baiying_shared.web import install_common

REFUSALS: dict[str, Exception] = {
    "missing": errors.NotFound("no team 42"),
    "clash": errors.Conflict("phone already registered"),
    "nope": errors.Forbidden("only admins"),
    "down": errors.Unavailable("carrier is not answering"),
    "big": errors.TooLarge("upload larger than 1,000 bytes"),
    "field": errors.InvalidField("near", "needs LAT,LON", where="query"),
    "legacy": HTTPException(401, "token expired", headers={"WWW-Authenticate": "Bearer"}),
}


class _Body(BaseModel):
    name: str = Field(max_length=3)


def _app() -> FastAPI:
    app = FastAPI()
    install_common(app, service="test")

    @app.get("/raise/{kind}")
    async def raising(kind: str) -> None:
        raise REFUSALS[kind]

    @app.post("/body")
    async def body(_: _Body) -> None:
        return None

    return app


async def _get(method: str, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "status", "code", "text"), [
    ("/raise/missing", 404, "not_found", "no team 42"),
    ("/raise/clash", 409, "conflict", "phone already registered"),
    ("/raise/nope", 403, "forbidden", "only admins"),
    ("/raise/down", 503, "unavailable", "carrier is not answering"),
    ("/raise/big", 413, "too_large", "upload larger than 1,000 bytes"),
    ("/raise/legacy", 401, "unauthorized", "token expired"),
    ("/no-such-route", 404, "not_found", "Not Found"),
])
async def test_refusals_share_one_shape(path: str, status: int, code: str, text: str) -> None:
    r = await _get("GET", path)
    assert r.status_code == status
    assert r.json() == {"error": text, "code": code, "detail": text}


async def test_http_exception_keeps_its_headers() -> None:
    r = await _get("GET", "/raise/legacy")
    assert r.headers["www-authenticate"] == "Bearer"


async def test_invalid_field_looks_like_a_validation_failure() -> None:
    raised = (await _get("GET", "/raise/field")).json()
    validated = (await _get("POST", "/body", json={"name": "toolong"})).json()
    for body in (raised, validated):
        assert set(body) == {"error", "code", "detail"} and body["code"] == "invalid"
        assert body["error"].startswith("invalid input: ")
    assert raised["detail"] == [{"field": "near", "loc": ["query", "near"],
                                 "message": "needs LAT,LON", "type": "value_error"}]
    assert validated["detail"][0]["field"] == "name"
    assert validated["detail"][0]["loc"] == ["body", "name"]
