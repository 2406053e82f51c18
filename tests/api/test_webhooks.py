"""Twilio webhooks on the running notifier: forged, replayed and oversized requests refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN
from tests.system.harness import System

INBOUND = "/v1/webhooks/twilio/inbound"
STATUS = "/v1/webhooks/twilio/status"


def _signed(system: System, path: str, form: dict[str, str], token: str = DEV_AUTH_TOKEN
            ) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(system.notifier_url + path, form)
    return {"X-Twilio-Signature": signature}


def _reply(body: str = "1") -> dict[str, str]:
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": DEV_ACCOUNT_SID,
            "From": f"+86172{uuid.uuid4().int % 10**8:08d}", "To": "+8610655590001", "Body": body}


async def test_forged_webhooks_are_403(system: System) -> None:
    form = _reply()
    async with httpx.AsyncClient(base_url=system.notifier_url) as http:
        for path in (INBOUND, STATUS):
            for headers in ({}, {"X-Twilio-Signature": "Zm9yZ2Vk"},
                            _signed(system, path, form, token="not-the-auth-token"),
                            _signed(system, path, {**form, "Body": "2"})):
                r = await http.post(path, data=form, headers=headers)
                assert r.status_code == 403, (path, headers, r.text)
                assert "signature" in r.json()["detail"]


async def test_replayed_reply_is_answered_once(system: System) -> None:
    form = _reply("帮助")
    async with httpx.AsyncClient(base_url=system.notifier_url) as http:
        first = await http.post(INBOUND, data=form, headers=_signed(system, INBOUND, form))
        again = await http.post(INBOUND, data=form, headers=_signed(system, INBOUND, form))
    assert first.status_code == again.status_code == 200
    assert "<Message>" in first.text and "<Message>" not in again.text


@pytest.mark.parametrize("size", [200_000, 2_000_000])
async def test_oversized_webhooks_are_refused(system: System, size: int) -> None:
    huge = _reply("1" * size)  # Twilio's own limit is 1,600 characters of SMS body
    async with httpx.AsyncClient(base_url=system.notifier_url, timeout=30) as http:
        for path in (INBOUND, STATUS):
            signed = await http.post(path, data=huge, headers=_signed(system, path, huge))
            unsigned = await http.post(path, data=huge)
            assert signed.status_code == unsigned.status_code == 413, (path, signed.text)
            assert "too large" in signed.json()["detail"]

            async def chunked() -> AsyncIterator[bytes]:  # no Content-Length to trust
                yield urlencode(huge).encode()

            streamed = await http.post(path, content=chunked(), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **_signed(system, path, huge)})
            assert streamed.status_code == 413, (path, streamed.text)
