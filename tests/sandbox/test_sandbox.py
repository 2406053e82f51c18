"""The sandbox speaks Twilio's API to the real twilio library, and signs like Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from baiying_sandbox.app import create_app
from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, SandboxSettings
from baiying_sandbox.store import Store
from tests.support import eventually, serving


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


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[str, Store, Client]]:
    app = create_app(SandboxSettings(mps=2, callback_delay_ms=5))
    async with serving(app) as url:
        http = AsyncTwilioHttpClient()
        client = Client(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, http_client=http, environment={})
        client.api.base_url = url
        yield url, app.state.store, client
        await http.close()


async def test_create_fetch_and_list_with_paging(sandbox: tuple[str, Store, Client]) -> None:
    _, _, client = sandbox
    sids = []
    for i in range(5):
        m = await client.messages.create_async(
            to="+8613800000001", from_=f"+8610655590{i:03d}", body=f"第{i}条"
        )
        assert m.status == "queued" and m.sid.startswith("SM") and m.num_segments == "1"
        sids.append(m.sid)
    fetched = await client.messages(sids[0]).fetch_async()
    assert fetched.body == "第0条" and fetched.to == "+8613800000001"
    listed = await client.messages.list_async(to="+8613800000001", page_size=2)
    assert [m.sid for m in listed] == sids[::-1], "newest first, across three pages"
    page = await client.messages.page_async(to="+8613800000001", page_size=2)
    assert len(list(page)) == 2 and page.next_page_url
    assert await client.messages.list_async(to="+8613800009999") == []


async def test_basic_auth_is_checked(sandbox: tuple[str, Store, Client]) -> None:
    url, _, _ = sandbox
    http = AsyncTwilioHttpClient()
    try:
        for sid, token in ((DEV_ACCOUNT_SID, "wrong"), ("AC" + "1" * 32, DEV_AUTH_TOKEN)):
            bad = Client(sid, token, http_client=http, environment={})
            bad.api.base_url = url
            with pytest.raises(TwilioRestException) as err:
                await bad.messages.create_async(to="+8613800000002", from_="+1", body="x")
            assert (err.value.status, err.value.code) == (401, 20003)
    finally:
        await http.close()


async def test_mps_excess_gets_20429_and_failing_numbers_their_code(
    sandbox: tuple[str, Store, Client],
) -> None:
    url, _store, client = sandbox
    codes = []
    for _ in range(5):  # 2 MPS holds a burst of 2
        try:
            await client.messages.create_async(to="+8613800000003", from_="+1001", body="x")
            codes.append(201)
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes[:2] == [201, 201] and 20429 in codes[2:]
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.patch(
            "/v1/admin/behaviour",
            json={"mps": 0, "failing_numbers": {"+8613800000004": 21614}, "error_rate": 1.0},
        )
        assert r.status_code == 200
        with pytest.raises(TwilioRestException) as err:
            await client.messages.create_async(to="+8613800000005", from_="+1001", body="x")
        assert (err.value.status, err.value.code) == (500, 20500)
        await http.patch("/v1/admin/behaviour", json={"error_rate": 0})
        with pytest.raises(TwilioRestException) as err:
            await client.messages.create_async(to="+8613800000004", from_="+1001", body="x")
        assert (err.value.status, err.value.code) == (400, 21614)
        raw = await http.post(
            f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json",
            data={"To": "+8613800000004", "From": "+1", "Body": "x"},
            auth=(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN),
        )
        assert set(raw.json()) == {"code", "message", "more_info", "status"}


async def test_status_callbacks_and_replies_are_signed_like_twilio(
    sandbox: tuple[str, Store, Client],
) -> None:
    url, _store, client = sandbox
    hook_app, seen = receiver()
    async with serving(hook_app) as hook:
        m = await client.messages.create_async(
            to="+8613800000006", from_="+1002", body="召集", status_callback=f"{hook}/status?d=abc"
        )

        async def three() -> bool:
            return len(seen) == 3

        await eventually(three, what="queued, sent, delivered callbacks")
        assert [f["MessageStatus"] for _, f, _ in seen] == ["queued", "sent", "delivered"]
        assert all(ok and f["MessageSid"] == m.sid for _, f, ok in seen)
        assert (await client.messages(m.sid).fetch_async()).status == "delivered"
        async with httpx.AsyncClient(base_url=url) as http:
            await http.patch("/v1/admin/behaviour", json={"inbound_url": f"{hook}/inbound"})
            r = await http.post("/v1/phones/+8613800000006/reply", json={"body": "1"})
            assert r.json() == {"to": "+1002", "answers": ["已收到 & 谢谢"]}
            path, form, ok = seen[-1]
            assert path == "/inbound" and ok and form["From"] == "+8613800000006"
            assert form["Body"] == "1" and form["To"] == "+1002"
            convo = (await http.get("/v1/phones/+8613800000006/conversation")).json()
            assert [c["direction"] for c in convo] == ["in", "out", "in"]
            assert (await http.get("/phones")).status_code == 200


async def test_stop_makes_later_sends_fail_21610(sandbox: tuple[str, Store, Client]) -> None:
    url, _, client = sandbox
    async with httpx.AsyncClient(base_url=url) as http:
        await http.patch("/v1/admin/behaviour", json={"inbound_url": "http://127.0.0.1:9/none"})
        await http.post("/v1/phones/+8613800000007/reply", json={"body": "STOP"})
    with pytest.raises(TwilioRestException) as err:
        await client.messages.create_async(to="+8613800000007", from_="+1003", body="x")
    assert err.value.code == 21610
