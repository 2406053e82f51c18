"""The sandbox speaks Twilio's API to the real twilio library, and signs like Twilio."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from baiying_sandbox.config import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS
from tests.sandbox.conftest import Opener, receiver
from tests.support import eventually, serving

A, B = DEV_SENDERS


async def test_create_fetch_and_list_with_paging(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb:
        sids = []
        for i in range(5):
            m = await sb.client.messages.create_async(to="+8613800000001", from_=A, body=f"第{i}条")
            assert m.status == "queued" and m.sid.startswith("SM") and m.num_segments == "1"
            sids.append(m.sid)
        fetched = await sb.client.messages(sids[0]).fetch_async()
        assert fetched.body == "第0条" and fetched.to == "+8613800000001"
        listed = await sb.client.messages.list_async(to="+8613800000001", page_size=2)
        assert [m.sid for m in listed] == sids[::-1], "newest first, across three pages"
        page = await sb.client.messages.page_async(to="+8613800000001", page_size=2)
        assert len(list(page)) == 2 and page.next_page_url
        assert await sb.client.messages.list_async(to="+8613800009999") == []


async def test_basic_auth_is_checked(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb:
        http = AsyncTwilioHttpClient()
        try:
            for sid, token in ((DEV_ACCOUNT_SID, "wrong"), ("AC" + "1" * 32, DEV_AUTH_TOKEN)):
                bad = Client(sid, token, http_client=http, environment={})
                bad.api.base_url = sb.url
                with pytest.raises(TwilioRestException) as err:
                    await bad.messages.create_async(to="+8613800000002", from_=A, body="x")
                assert (err.value.status, err.value.code) == (401, 20003)
        finally:
            await http.close()


async def test_injected_5xx_and_failing_numbers_get_their_code(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb:
        await sb.behave(failing_numbers={"+8613800000004": 21614}, error_rate=1.0)
        with pytest.raises(TwilioRestException) as err:
            await sb.client.messages.create_async(to="+8613800000005", from_=A, body="x")
        assert (err.value.status, err.value.code) == (500, 20500)
        await sb.behave(error_rate=0)
        with pytest.raises(TwilioRestException) as err:
            await sb.client.messages.create_async(to="+8613800000004", from_=A, body="x")
        assert (err.value.status, err.value.code) == (400, 21614)
        raw = await sb.http.post(
            f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json",
            data={"To": "+8613800000004", "From": A, "Body": "x"},
        )
        assert set(raw.json()) == {"code", "message", "more_info", "status"}


async def test_status_callbacks_and_replies_are_signed_like_twilio(open_sandbox: Opener) -> None:
    async with open_sandbox(mps=5) as sb:
        hook_app, seen = receiver()
        async with serving(hook_app) as hook:
            m = await sb.client.messages.create_async(
                to="+8613800000006", from_=B, body="召集", status_callback=f"{hook}/status?d=abc"
            )

            async def two() -> bool:
                return len(seen) == 2

            await eventually(two, what="sent, delivered callbacks")
            # Twilio calls a From-send back from `sent` on, never for its initial `queued`.
            assert [f["MessageStatus"] for _, f, _ in seen] == ["sent", "delivered"]
            assert all(ok and f["MessageSid"] == m.sid for _, f, ok in seen)
            assert (await sb.client.messages(m.sid).fetch_async()).status == "delivered"
            await sb.behave(inbound_url=f"{hook}/inbound")
            r = await sb.http.post("/v1/phones/+8613800000006/reply", json={"body": "1"})
            assert r.json() == {"to": B, "answers": ["已收到 & 谢谢"]}
            path, form, ok = seen[-1]
            assert path == "/inbound" and ok and form["From"] == "+8613800000006"
            assert form["Body"] == "1" and form["To"] == B
            convo = (await sb.http.get("/v1/phones/+8613800000006/conversation")).json()
            assert [c["direction"] for c in convo] == ["in", "out", "in"]
            assert (await sb.http.get("/phones")).status_code == 200


async def test_stop_makes_later_sends_fail_21610(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb:
        await sb.behave(inbound_url="http://127.0.0.1:9/none")
        await sb.http.post("/v1/phones/+8613800000007/reply", json={"body": "STOP"})
        with pytest.raises(TwilioRestException) as err:
            await sb.client.messages.create_async(to="+8613800000007", from_=A, body="x")
        assert err.value.code == 21610


async def test_admin_needs_the_account_credentials(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb, httpx.AsyncClient(base_url=sb.url) as anonymous:
        for method, path in (("PATCH", "/v1/admin/behaviour"), ("POST", "/v1/admin/reset")):
            r = await anonymous.request(method, path, json={"mps": 1})
            assert r.status_code == 401 and r.json()["code"] == 20003
            wrong = await anonymous.request(
                method, path, json={"mps": 1}, auth=(DEV_ACCOUNT_SID, "nope")
            )
            assert wrong.status_code == 401
        assert sb.store.behaviour.mps == 0, "refused changes did not apply"
        assert (await sb.http.post("/v1/admin/reset")).status_code == 204


async def test_a_multipart_create_gets_the_same_answers_as_a_url_encoded_one(
    open_sandbox: Opener,
) -> None:
    """The url-encoded create is answered ahead of FastAPI; any other encoding is routed."""
    async with open_sandbox() as sb:
        path = f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json"
        form = {"To": "+8613800000031", "From": A, "Body": "多部分 & more"}
        encoded = await sb.http.post(path, data=form)
        multipart = await sb.http.post(path, data=form, files={"x": ("x", b"")})
        assert "multipart/form-data" in str(multipart.request.headers["content-type"])
        for r in (encoded, multipart):
            assert r.status_code == 201 and r.headers["content-type"] == "application/json"
            assert (r.json()["body"], r.json()["status"]) == ("多部分 & more", "queued")
        assert set(encoded.json()) == set(multipart.json())
        async with httpx.AsyncClient(base_url=sb.url) as anonymous:
            for files in (None, {"x": ("x", b"")}):
                bad = await sb.http.post(path, data={**form, "To": "123"}, files=files)
                assert (bad.status_code, bad.json()["code"]) == (400, 21211)
                anon = await anonymous.post(path, data=form, files=files)
                assert (anon.status_code, anon.json()["code"]) == (401, 20003)
