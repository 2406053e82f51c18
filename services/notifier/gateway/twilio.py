"""Twilio adapter: the twilio library's async client, pointed at Twilio or the sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from baiying_notifier.gateway import Capabilities, GatewayError, OutboundSms, SentMessage, Submitted


class TwilioGateway:
    """SmsGateway over Twilio's Messages API."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str,
        messaging_service_sid: str | None,
        timeout_s: float,
        cancels_queued: bool = False,
    ) -> None:
        # Twilio cancels only scheduled messages; `cancels_queued` is for a provider (the
        # sandbox's `cancel_queued`) that also withdraws one still in a sender's queue.
        self.capabilities = Capabilities(
            supports_status_callback=True, supports_lookup=True, supports_fetch=True,
            supports_cancel=True, cancels_queued=cancels_queued, supports_validity=True,
        )
        self._http = AsyncTwilioHttpClient(timeout=timeout_s)
        # environment={} so TWILIO_EDGE / TWILIO_REGION cannot rewrite the host.
        self._client = Client(account_sid, auth_token, http_client=self._http, environment={})
        self._client.api.base_url = base_url.rstrip("/")
        self._service = messaging_service_sid

    async def send(self, sms: OutboundSms) -> Submitted:
        kwargs: dict[str, Any] = {"to": sms.to, "body": sms.body}
        if sms.sender:
            kwargs["from_"] = sms.sender
        elif self._service:
            kwargs["messaging_service_sid"] = self._service
        if sms.status_callback:
            kwargs["status_callback"] = sms.status_callback
        if sms.validity_s:
            kwargs["validity_period"] = sms.validity_s
        try:
            msg = await self._client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            raise GatewayError(status=exc.status, code=exc.code, message=exc.msg) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # The request may have reached Twilio: only reconciliation can tell.
            connect_failed = isinstance(exc, aiohttp.ClientConnectorError)
            raise GatewayError(
                status=None, code=None, message=repr(exc), ambiguous=not connect_failed
            ) from exc
        return Submitted(sid=str(msg.sid), status=str(msg.status or "queued"))

    async def recent_to(self, *, to: str, since: datetime) -> list[SentMessage]:
        found: list[SentMessage] = []
        try:
            async for m in await self._client.messages.stream_async(to=to, page_size=50):
                if m.date_created and m.date_created < since:
                    break  # newest first: everything after is older
                found.append(_sent(m))
        except TwilioRestException as exc:
            raise GatewayError(status=exc.status, code=exc.code, message=exc.msg) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise GatewayError(status=None, code=None, message=repr(exc)) from exc
        return found

    async def fetch(self, sid: str) -> SentMessage:
        try:
            return _sent(await self._client.messages(sid).fetch_async())
        except TwilioRestException as exc:
            raise GatewayError(status=exc.status, code=exc.code, message=exc.msg) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise GatewayError(status=None, code=None, message=repr(exc)) from exc

    async def cancel(self, sid: str) -> None:
        try:
            await self._client.messages(sid).update_async(status="canceled")
        except TwilioRestException as exc:
            raise GatewayError(status=exc.status, code=exc.code, message=exc.msg) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise GatewayError(status=None, code=None, message=repr(exc), ambiguous=True) from exc

    async def close(self) -> None:
        await self._http.close()


def _sent(m: MessageInstance) -> SentMessage:
    return SentMessage(
        str(m.sid), str(m.to), str(m.body or ""), str(m.status), m.date_created, m.error_code
    )
