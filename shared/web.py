"""FastAPI plumbing every service shares: health, readiness, metrics, errors, access log."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baiying_shared import errors as errors_
from baiying_shared.logging import get_logger
from baiying_shared.metrics import HTTP_LATENCY

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [errors_.field_error(e["loc"], e["msg"], e["type"]) for e in exc.errors()]
    return JSONResponse(status_code=422, content=errors_.invalid(errors))


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors_.DomainError)
    if isinstance(exc, errors_.InvalidField):
        return JSONResponse(status_code=exc.status, content=errors_.invalid(exc.detail()))
    body = errors_.shape(error=exc.message, code=exc.code, detail=exc.detail())
    return JSONResponse(status_code=exc.status, content=body)


async def _http_error(_: Request, exc: Exception) -> Response:
    # FastAPI's own refusals (401 from a bearer check, 404 route, 405) take the same shape.
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    text = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    body = errors_.shape(error=text, code=errors_.code_for(exc.status_code), detail=exc.detail)
    return JSONResponse(status_code=exc.status_code, content=body, headers=headers)


async def _unstorable_text(_: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL text cannot hold NUL (U+0000); JSON and forms can. Found by schemathesis:
    # without this a NUL in any free-text field was a 500. The transaction has rolled back.
    body = errors_.shape(
        error="invalid input: text must not contain NUL (U+0000) characters", code="invalid",
        detail=[{"field": "body", "message": str(exc), "type": "unstorable_text"}],
    )
    return JSONResponse(status_code=422, content=body)


def install_common(app: FastAPI, *, service: str) -> None:
    """Add /healthz, /readyz, /metrics, the one error shape (errors.py) and a request log to `app`.

    /readyz runs the checks the lifespan put in `app.state.readiness` (name -> coroutine).
    """
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(errors_.DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unstorable in (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError):
        app.add_exception_handler(unstorable, _unstorable_text)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness", {})
        if not checks:
            return JSONResponse({"ready": False, "checks": {}}, status_code=503)
        results = {name: await _probe(check) for name, check in checks.items()}
        ready = all(v == "ok" for v in results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(AccessLog, service=service)


class AccessLog:
    """Trace id, latency histogram and one log line per request, as pure ASGI middleware.

    Not BaseHTTPMiddleware: that runs the app in a task of its own and copies every response
    body through a stream (11 % of the notifier's samples under wrk's signed replies); this
    only looks at the response's start message.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        trace_id = Headers(scope=scope).get("x-trace-id") or uuid.uuid4().hex
        started = False

        async def send_traced(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Trace-Id"] = trace_id
                # Timed to the response's start, as before: a stream (SSE) may run for hours.
                self._record(scope, message["status"], time.perf_counter() - start)
            await send(message)

        with structlog.contextvars.bound_contextvars(trace_id=trace_id, service=self.service):
            try:
                await self.app(scope, receive, send_traced)
            except Exception:
                if not started:  # ServerErrorMiddleware, outside us, answers it with a 500
                    self._record(scope, 500, time.perf_counter() - start)
                raise

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        HTTP_LATENCY.labels(self.service, method, route, str(status)).observe(elapsed)
        if route not in ("/healthz", "/metrics"):
            log.info(
                "http",
                service=self.service,  # named here too: under `serve all` apps share one process
                method=method,
                route=route,
                status=status,
                ms=round(elapsed * 1000, 1),
            )


async def _probe(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), timeout=2.0)
        return "ok"
    except Exception as exc:  # readiness reports any failure as text, never raises
        return f"failed: {exc.__class__.__name__}: {exc}"[:200]
