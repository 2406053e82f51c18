"""A sandbox served over HTTP, with the real twilio library pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from baiying_sandbox.app import create_app
from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, SandboxSettings
from baiying_sandbox.store import Store
from tests.support import serving

ADMIN_AUTH = (DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)


@dataclass
class Sandbox:
    url: str
    store: Store
    client: Client
    http: httpx.AsyncClient  # admin calls, with the account's credentials

    async def behave(self, **change: Any) -> None:
        r = await self.http.patch("/v1/admin/behaviour", json=change)
        assert r.status_code == 200, r.text


Opener = Callable[..., AbstractAsyncContextManager[Sandbox]]


@asynccontextmanager
async def _open(**settings: Any) -> AsyncIterator[Sandbox]:
    app = create_app(SandboxSettings(**{"mps": 0, "callback_delay_ms": 5, **settings}))
    async with serving(app) as url:
        twilio_http = AsyncTwilioHttpClient()
        client = Client(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, http_client=twilio_http, environment={})
        client.api.base_url = url
        async with httpx.AsyncClient(base_url=url, auth=ADMIN_AUTH) as http:
            yield Sandbox(url, app.state.store, client, http)
        await twilio_http.close()


@pytest.fixture
def open_sandbox() -> Opener:
    """`async with open_sandbox(mps=10, ...) as sb:` — settings as keyword arguments."""
    return _open


def receiver() -> tuple[FastAPI, list[tuple[str, dict[str, str], bool]]]:
    """A webhook endpoint that records what arrives and whether its signature is Twilio's."""
    app, seen = FastAPI(), []
    validator = RequestValidator(DEV_AUTH_TOKEN)

    @app.post("/{path:path}")
    async def hook(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        ok = validator.validate(
            str(request.url), form, request.headers.get("x-twilio-signature", "")
        )
        seen.append((request.url.path, form, ok))
        return Response(
            "<Response><Message>已收到 &amp; 谢谢</Message></Response>",
            media_type="application/xml",
        )

    return app, seen
