"""A revocation published on auth.revocations.v1 reaches a service's own consumer on the real
broker: the revoked Keycloak session is refused and its open stream is closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import jwt
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from baiying_registry.app import create_app
from baiying_shared.auth import CurrentPrincipal, until_revoked
from baiying_shared.events.envelope import encode, wrap
from baiying_shared.events.revocations import TOPIC, SessionRevoked
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from baiying_shared.oidc_revocations import RevocationList, revocation_consumer
from baiying_shared.settings import CommonSettings
from tests.auth.keycloak import Keycloak
from tests.conftest import Infra
from tests.registry.conftest import registry_settings
from tests.support import eventually, serving


def _app(settings: CommonSettings, revoked: RevocationList) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.revocations = revoked

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, object]:
        return principal.model_dump(mode="json")

    @app.get("/stream")
    async def stream(principal: CurrentPrincipal) -> StreamingResponse:
        async def ticks() -> AsyncIterator[bytes]:
            while True:
                yield b"data: tick\n\n"
                await asyncio.sleep(0.2)  # a tick period, not a wait for a condition

        async def until_end() -> AsyncIterator[bytes]:
            async for chunk in until_revoked(app.state, principal, ticks()):
                yield chunk
            yield b"event: revoked\ndata: session revoked\n\n"

        return StreamingResponse(until_end(), media_type="text/event-stream")

    return app


async def test_revocation_event_refuses_the_session_and_closes_its_stream(
    keycloak: Keycloak, common_settings: CommonSettings
) -> None:
    settings = common_settings.model_copy(
        update={"idp": "oidc", "oidc_issuer": keycloak.issuer, "oidc_jwks_url": keycloak.jwks_url}
    )
    await ensure_topics(settings)
    revoked = RevocationList()
    producer = make_producer(settings, client_id="authtest")
    await producer.start()
    consumer = revocation_consumer(
        settings, service="authtest", revocations=revoked, dead_letters=producer
    )
    await consumer.start()
    token = await keycloak.token("sup.zhanggong")
    try:
        async with serving(_app(settings, revoked)) as url, httpx.AsyncClient(base_url=url) as http:
            auth = {"Authorization": f"Bearer {token}"}
            me = (await http.get("/me", headers=auth)).json()
            async with http.stream("GET", "/stream", headers=auth, timeout=30) as stream:
                lines = stream.aiter_lines()
                assert await anext(lines) == "data: tick"
                event = wrap(
                    SessionRevoked(
                        sub=me["sub"],
                        session_id=me["session_id"],
                        at=datetime.now(UTC),
                        by="admin.city",
                    ),
                    producer="test",
                )
                started = time.monotonic()
                await producer.send_and_wait(
                    settings.topic(TOPIC), encode(event), key=me["sub"].encode()
                )
                rest = [line async for line in lines]  # ends only when the server closes it
            assert "event: revoked" in rest
            assert time.monotonic() - started < 60
            refused = await http.get("/me", headers=auth)
            assert refused.status_code == 401
            assert "revoked" in refused.json()["detail"]
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_process_started_later_still_learns_earlier_revocations(
    common_settings: CommonSettings,
) -> None:
    await ensure_topics(common_settings)
    producer = make_producer(common_settings, client_id="authtest")
    await producer.start()
    issued_before = int(time.time())  # a token of user-1 minted before the revocation
    try:
        event = wrap(
            SessionRevoked(sub="user-1", session_id=None, at=datetime.now(UTC), by="admin"),
            producer="test",
        )
        await producer.send_and_wait(common_settings.topic(TOPIC), encode(event), key=b"user-1")
        late = RevocationList()
        consumer = revocation_consumer(
            common_settings, service="late", revocations=late, dead_letters=producer
        )
        await consumer.start()
        try:

            async def learnt() -> bool:
                return late.is_revoked(sub="user-1", session_id=None, issued_at=issued_before)

            await eventually(learnt, timeout=30, what="revocation replayed to a new process")
            assert not late.is_revoked(sub="user-2", session_id=None, issued_at=None)
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


async def test_a_running_service_applies_revocations_from_the_topic(
    keycloak: Keycloak, infra: Infra, database_url: str
) -> None:
    """The registry, started as in production, refuses a Keycloak session revoked on the topic."""
    settings = registry_settings(
        infra,
        database_url,
        idp="oidc",
        oidc_issuer=keycloak.issuer,
        oidc_jwks_url=keycloak.jwks_url,
    )
    token = await keycloak.token("admin.city")
    auth = {"Authorization": f"Bearer {token}"}
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/v1/teams", headers=auth)).status_code == 200
        sub = jwt.decode(token, options={"verify_signature": False})["sub"]
        producer = make_producer(settings, client_id="authtest")
        await producer.start()
        try:
            event = wrap(
                SessionRevoked(sub=sub, session_id=None, at=datetime.now(UTC), by="test"),
                producer="test",
            )
            await producer.send_and_wait(settings.topic(TOPIC), encode(event), key=sub.encode())
        finally:
            await producer.stop()

        async def refused() -> bool:
            return (await http.get("/v1/teams", headers=auth)).status_code == 401

        await eventually(refused, timeout=60, what="registry refuses the revoked user")
