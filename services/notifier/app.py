"""Notifier service: call-outs to SMS and app alerts, replies back to events (port 8003)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI

from baiying_notifier import app_channel, intake, webhooks
from baiying_notifier.campaigns import page as campaign_page
from baiying_notifier.campaigns.expiry import expire_forever
from baiying_notifier.config import NotifierSettings
from baiying_notifier.consumers import make_consumers
from baiying_notifier.gateway import SmsGateway
from baiying_notifier.gateway.twilio import TwilioGateway
from baiying_notifier.reconcile import reconcile_forever
from baiying_notifier.sender import Sender
from baiying_notifier.signin.api import router as signin_router
from baiying_notifier.signin.service import SignIn
from baiying_shared.db.housekeeping import DAY_S, Prune
from baiying_shared.db.pool import create_pool
from baiying_shared.logging import configure_logging
from baiying_shared.runtime import running
from baiying_shared.web import install_common

GatewayFactory = Callable[[NotifierSettings], SmsGateway]


def twilio_gateway(settings: NotifierSettings) -> SmsGateway:
    """The default gateway: Twilio, or the sandbox when no real credentials are set."""
    return TwilioGateway(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        base_url=settings.twilio_api_base_url,
        messaging_service_sid=None if settings.sms_senders else settings.messaging_service_sid,
        timeout_s=settings.twilio_timeout_s,
    )


@asynccontextmanager
async def listening(pool: asyncpg.Pool[Any], channel: str, callback: Any) -> AsyncIterator[None]:
    """Hold one connection LISTENing on `channel` for the lifetime of the block."""
    async with pool.acquire() as conn:
        await conn.add_listener(channel, callback)
        try:
            yield
        finally:
            await conn.remove_listener(channel, callback)


def create_app(
    settings: NotifierSettings | None = None, *, gateway_factory: GatewayFactory = twilio_gateway
) -> FastAPI:
    """Build the notifier; `gateway_factory` lets tests wrap or replace the SMS provider."""
    settings = settings or NotifierSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            rt = await stack.enter_async_context(
                running(
                    settings,
                    service="notifier",
                    schema="notifier",
                    migrations_package="baiying_notifier",
                    consumers=make_consumers,
                    # Twilio retries a webhook for hours at most; a week is ample.
                    prunes=(Prune("webhook_seen", "at", 7 * DAY_S),),
                )
            )
            # Connections of the call-out lane's intake alone (intake.own_pool): never queued
            # behind an advisory's work on the shared pool.
            own = await create_pool(
                settings.model_copy(update={"db_pool_min": 2, "db_pool_max": 2}), schema=rt.schema
            )
            stack.push_async_callback(own.close)
            stack.callback(intake.own_pool(rt.pool, own))
            gateway = gateway_factory(settings)
            stack.push_async_callback(gateway.close)
            sender = Sender(pool=rt.pool, gateway=gateway, settings=settings)
            stack.callback(intake.hand_to(rt.pool, sender.push))  # committed rows, no reload
            await stack.enter_async_context(listening(rt.pool, "notifier_deliveries", sender.wake))
            hub = app_channel.AppHub()
            await stack.enter_async_context(listening(rt.pool, "notifier_app", hub.on_notify))
            rt.background += [
                asyncio.create_task(sender.run(), name="sms-sender"),
                asyncio.create_task(
                    reconcile_forever(
                        pool=rt.pool,
                        gateway=gateway,
                        sender=sender,
                        settings=settings,
                    ),
                    name="sms-reconciler",
                ),
                asyncio.create_task(expire_forever(rt.pool), name="campaign-expiry"),
            ]
            app.state.runtime, app.state.sender, app.state.hub = rt, sender, hub
            app.state.signin = SignIn(  # volunteer sign-in by SMS code (docs/auth.md)
                settings=settings, pool=rt.pool, gateway=gateway,
                sender=settings.sms_senders[0] if settings.sms_senders else None,
            )
            app.state.readiness = rt.checks()
            yield

    app = FastAPI(title="Baiying notifier", lifespan=lifespan)
    app.state.settings = settings
    install_common(app, service="notifier")
    app.include_router(webhooks.router)
    app.include_router(app_channel.router)
    app.include_router(signin_router)
    app.include_router(campaign_page.router)  # GET /c/{token}: public, no login
    return app


def main() -> FastAPI:  # uvicorn --factory entry that also configures logging
    settings = NotifierSettings()
    configure_logging(service="notifier", level=settings.log_level, json=settings.log_json)
    return create_app(settings)
